/**
 * Secret keys: the SMTP password and the API bearer token. Shown once when
 * created, stored only as a hash, several per account, revocable.
 */
import type { Kysely } from 'kysely';
import type { Store } from '../store/database.ts';
import type { Database } from '../store/schema.ts';
import { newId } from '../store/ids.ts';
import { UserError } from '../errors.ts';
import { generateSecretKey, hashSecretKey, keyHint } from './secrets.ts';
import { normalizeEmail } from './email.ts';

export interface CreatedKey {
  id: string;
  name: string;
  secret: string;
  createdAt: number;
}

export interface KeySummary {
  id: string;
  name: string;
  hint: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export async function createSecretKey(db: Kysely<Database>, accountId: string, name: string): Promise<CreatedKey> {
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.length > 100) throw new UserError('invalid', 'invalid_key_name', 'a key name must have 1 to 100 characters', 'name');
  const secret = generateSecretKey();
  const key = { id: newId(), name: trimmed, secret, createdAt: Date.now() };
  await db.insertInto('secret_keys').values({
    id: key.id, account_id: accountId, name: trimmed, secret_hash: hashSecretKey(secret), hint: keyHint(secret),
    created_at: key.createdAt, last_used_at: null, revoked_at: null,
  }).execute();
  return key;
}

export async function listSecretKeys(store: Store, accountId: string): Promise<KeySummary[]> {
  const rows = await store.db.selectFrom('secret_keys').selectAll().where('account_id', '=', accountId).orderBy('created_at').execute();
  return rows.map((row) => ({
    id: row.id, name: row.name, hint: row.hint, createdAt: row.created_at, lastUsedAt: row.last_used_at, revokedAt: row.revoked_at,
  }));
}

/** Revokes a key; `accountId` limits it to one account's keys (the API), null lets an operator revoke any. */
export async function revokeSecretKey(store: Store, keyId: string, accountId: string | null): Promise<void> {
  let query = store.db.updateTable('secret_keys').set({ revoked_at: Date.now() }).where('id', '=', keyId).where('revoked_at', 'is', null);
  if (accountId) query = query.where('account_id', '=', accountId);
  const result = await query.executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) {
    // Already revoked is fine; another account's key is as unknown as no key at all.
    let lookup = store.db.selectFrom('secret_keys').select('revoked_at').where('id', '=', keyId);
    if (accountId) lookup = lookup.where('account_id', '=', accountId);
    if (!(await lookup.executeTakeFirst())) throw new UserError('not-found', 'unknown_key', `no secret key with the id ${keyId}`, 'id');
  }
}

export type KeyCheck =
  | { ok: true; accountId: string; email: string; dailyLimit: number; keyId: string }
  | { ok: false; reason: 'unknown-account' | 'wrong-key' | 'revoked-key' };

// last_used_at is refreshed at most this often, so a client that logs in for
// every message does not cost a durable write each time.
const LAST_USED_RESOLUTION_MS = 60_000;

/** Where a successful check notes the key's use instead of writing it at once (see key-use-log.ts). */
export interface KeyUses {
  used(keyId: string, at: number): void;
}

/**
 * Checks an SMTP/API credential: username = account email (SMTP only), password = a live secret key.
 * With `uses`, the key's last use is handed to it and the check makes no write.
 */
export async function checkSecretKey(store: Store, secret: string, email: string | null, uses?: KeyUses): Promise<KeyCheck> {
  const row = await store.db.selectFrom('secret_keys')
    .innerJoin('accounts', 'accounts.id', 'secret_keys.account_id')
    .select(['secret_keys.id as keyId', 'secret_keys.revoked_at', 'secret_keys.last_used_at', 'accounts.id as accountId', 'accounts.email', 'accounts.daily_limit'])
    .where('secret_keys.secret_hash', '=', hashSecretKey(secret))
    .executeTakeFirst();
  if (!row || (email !== null && row.email !== normalizeEmail(email))) {
    if (email !== null) {
      const account = await store.db.selectFrom('accounts').select('id').where('email', '=', normalizeEmail(email)).executeTakeFirst();
      if (!account) return { ok: false, reason: 'unknown-account' };
    }
    return { ok: false, reason: 'wrong-key' };
  }
  if (row.revoked_at !== null) return { ok: false, reason: 'revoked-key' };
  const now = Date.now();
  if (row.last_used_at === null || now - row.last_used_at > LAST_USED_RESOLUTION_MS) {
    if (uses) uses.used(row.keyId, now);
    else await store.db.updateTable('secret_keys').set({ last_used_at: now }).where('id', '=', row.keyId).execute();
  }
  return { ok: true, accountId: row.accountId, email: row.email, dailyLimit: row.daily_limit, keyId: row.keyId };
}

/** The bulk write behind KeyUses: each key's last use, never moved back in time. */
export async function touchSecretKeys(db: Kysely<Database>, uses: readonly { keyId: string; at: number }[]): Promise<void> {
  for (const { keyId, at } of uses) {
    await db.updateTable('secret_keys').set({ last_used_at: at }).where('id', '=', keyId)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)])).execute();
  }
}
