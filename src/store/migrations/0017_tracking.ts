/**
 * Open and click tracking settings, per sending domain, in a table of their
 * own: a domain without a row tracks nothing (events/tracking-links.ts says
 * why it is off by default).
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export function tracking(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createTable('domain_tracking')
        .addColumn('domain_id', 'text', (c) => c.primaryKey().references('domains.id').onDelete('cascade'))
        .addColumn('opens', 'integer', (c) => c.notNull())
        .addColumn('clicks', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  };
}
