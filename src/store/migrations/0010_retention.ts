/**
 * Retention (src/retention): when a message's body was deleted, the indexes
 * its sweeps walk, and the leases that let one node at a time run a
 * background job in a cluster.
 */
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export function retention(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('messages').addColumn('body_expired_at', 'bigint').execute();
      // The body sweep walks messages whose body is still kept, oldest id first
      // (ids are time-ordered); the partial index holds only those rows, so the
      // sweep never re-reads the messages it already emptied.
      await db.schema.createIndex('messages_body_kept').on('messages').column('id')
        .where(sql.ref('body_expired_at'), 'is', null).execute();
      await db.schema.createTable('job_leases')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  };
}
