/**
 * Row locks differ by engine: PostgreSQL locks the rows (several nodes write
 * at once); SQLite needs nothing more, because every write transaction
 * already holds the database's single write lock (BEGIN IMMEDIATE).
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';
import type { Engine } from './database.ts';

/** Serialises concurrent limit checks of these accounts until the transaction ends. */
export async function lockAccounts(tx: Kysely<Database>, engine: Engine, accountIds: readonly string[]): Promise<void> {
  if (engine !== 'postgres' || accountIds.length === 0) return;
  // Sorted, so two nodes locking overlapping sets always lock in the same order.
  const ids = [...accountIds].sort();
  await tx.selectFrom('accounts').select('id').where('id', 'in', ids).orderBy('id').forUpdate().execute();
}
