/**
 * Sandbox mode, the hosted providers' "trial mode": mail from a sandboxed
 * account, or sent with a sandboxed key, goes through every check, is signed
 * and recorded like real mail, and is delivered nowhere (status `sandboxed`).
 * Apps can be tested against Mailroom without mailing anyone, and new
 * accounts can start in it (MAILROOM_NEW_ACCOUNTS_SANDBOXED) until an
 * administrator lifts it.
 */
import type { Kysely } from 'kysely';
import type { Store } from '../store/database.ts';
import type { Database } from '../store/schema.ts';
import { UserError } from '../errors.ts';

/** Whether mail from this account, sent with this key (null: a dashboard session), is sandboxed. */
export async function isSandboxed(db: Kysely<Database>, accountId: string, keyId: string | null): Promise<boolean> {
  const account = await db.selectFrom('accounts').select('sandbox').where('id', '=', accountId).executeTakeFirst();
  if (Number(account?.sandbox ?? 0) === 1) return true;
  if (keyId === null) return false;
  const key = await db.selectFrom('secret_keys').select('sandbox').where('id', '=', keyId).executeTakeFirst();
  return Number(key?.sandbox ?? 0) === 1;
}

export async function accountSandboxed(store: Store, accountId: string): Promise<boolean> {
  return isSandboxed(store.db, accountId, null);
}

/** Puts an account in the sandbox or lifts it (administrators). */
export async function setAccountSandbox(store: Store, accountId: string, on: boolean): Promise<void> {
  const result = await store.db.updateTable('accounts').set({ sandbox: on ? 1 : 0 }).where('id', '=', accountId).executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw new UserError('not-found', 'unknown_account', `no account with the id ${accountId}`, 'id');
}

/** Marks a key sandboxed; called in the transaction that creates it, so it is never live unsandboxed. */
export async function sandboxKey(db: Kysely<Database>, keyId: string): Promise<void> {
  await db.updateTable('secret_keys').set({ sandbox: 1 }).where('id', '=', keyId).execute();
}
