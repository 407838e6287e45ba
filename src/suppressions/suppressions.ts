/**
 * Addresses an account must not send to any more: hard bounces, complaints,
 * or added by hand. Checked at RCPT (SMTP) and on POST /messages (API).
 */
import type { Kysely } from 'kysely';
import type { Store } from '../store/database.ts';
import type { Database } from '../store/schema.ts';
import { UserError } from '../errors.ts';

export interface Suppression {
  address: string;
  reason: string;
  createdAt: number;
}

export function normalizeAddress(address: string): string {
  return address.trim().toLowerCase();
}

export async function findSuppression(db: Kysely<Database>, accountId: string, address: string): Promise<Suppression | null> {
  const row = await db.selectFrom('suppressions').select(['address', 'reason', 'created_at'])
    .where('account_id', '=', accountId).where('address', '=', normalizeAddress(address)).executeTakeFirst();
  return row ? { address: row.address, reason: row.reason, createdAt: row.created_at } : null;
}

/** findSuppression for several (account, address) pairs in one query (store/read-batch.ts), by `${accountId} ${normalized address}`. */
export async function findSuppressionsOf(db: Kysely<Database>, pairs: ReadonlyArray<{ accountId: string; address: string }>): Promise<Map<string, Suppression>> {
  const found = new Map<string, Suppression>();
  if (pairs.length === 0) return found;
  const byAccount = new Map<string, Set<string>>();
  for (const { accountId, address } of pairs) byAccount.set(accountId, (byAccount.get(accountId) ?? new Set()).add(normalizeAddress(address)));
  const rows = await db.selectFrom('suppressions').select(['account_id', 'address', 'reason', 'created_at'])
    .where((eb) => eb.or([...byAccount].map(([accountId, addresses]) => eb.and([eb('account_id', '=', accountId), eb('address', 'in', [...addresses])]))))
    .execute();
  for (const row of rows) found.set(`${row.account_id} ${row.address}`, { address: row.address, reason: row.reason, createdAt: row.created_at });
  return found;
}

/** Adds a suppression; an existing one keeps its first reason and date. */
export async function suppress(db: Kysely<Database>, accountId: string, address: string, reason: string, sourceDeliveryId: string | null): Promise<void> {
  await db.insertInto('suppressions')
    .values({ account_id: accountId, address: normalizeAddress(address), reason, source_delivery_id: sourceDeliveryId, created_at: Date.now() })
    .onConflict((oc) => oc.columns(['account_id', 'address']).doNothing())
    .execute();
}

export async function listSuppressions(store: Store, accountId: string, options: { limit: number; after?: string }): Promise<{ items: Suppression[]; next?: string }> {
  let query = store.db.selectFrom('suppressions').select(['address', 'reason', 'created_at'])
    .where('account_id', '=', accountId).orderBy('address').limit(options.limit + 1);
  if (options.after) query = query.where('address', '>', options.after);
  const rows = await query.execute();
  const items = rows.slice(0, options.limit).map((row) => ({ address: row.address, reason: row.reason, createdAt: row.created_at }));
  return rows.length > options.limit ? { items, next: items[items.length - 1].address } : { items };
}

export async function removeSuppression(store: Store, accountId: string, address: string): Promise<void> {
  const result = await store.db.deleteFrom('suppressions')
    .where('account_id', '=', accountId).where('address', '=', normalizeAddress(address)).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) {
    throw new UserError('not-found', 'unknown_suppression', `${address} is not on the suppression list`, 'address');
  }
}
