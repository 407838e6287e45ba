/**
 * Each account's stored bytes: the bodies of its messages still held (queued,
 * or finished but not yet expired by retention). Kept as a counter, written in
 * the transactions that accept and expire messages, so the storage budget
 * costs one row read per submission, not a sum over the account's messages.
 */
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export function storageBudget(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('accounts').addColumn('stored_bytes', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
      await sql`update accounts set stored_bytes = coalesce((
        select sum(size) from messages where messages.account_id = accounts.id and messages.body_expired_at is null), 0)`.execute(db);
    },
  };
}
