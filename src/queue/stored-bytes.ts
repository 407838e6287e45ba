/**
 * The per-account counter of body bytes held (accounts.stored_bytes), which
 * the storage budget (MAILROOM_STORAGE_BUDGET) is checked against. Written in
 * the caller's transaction: acceptance adds, retention takes off.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';

export async function readStoredBytes(tx: Kysely<Database>, accountIds: readonly string[]): Promise<Map<string, number>> {
  if (accountIds.length === 0) return new Map();
  const rows = await tx.selectFrom('accounts').select(['id', 'stored_bytes']).where('id', 'in', [...accountIds]).execute();
  return new Map(rows.map((r) => [r.id, Number(r.stored_bytes)]));
}

/** Adds (or, with negative amounts, takes off) bytes per account; never below zero. */
export async function addStoredBytes(tx: Kysely<Database>, bytes: ReadonlyMap<string, number>): Promise<void> {
  // Sorted, so two transactions touching the same accounts lock them in the same order.
  for (const [accountId, amount] of [...bytes].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (amount === 0) continue;
    await tx.updateTable('accounts')
      .set({ stored_bytes: sql`case when stored_bytes + ${amount} < 0 then 0 else stored_bytes + ${amount} end` })
      .where('id', '=', accountId).execute();
  }
}
