/**
 * DKIM keys beside a domain's active one (domains.dkim_*): the next key while its record waits to
 * be published (`pending`), and earlier keys after signing moved on (`retired`), whose records may
 * be removed once their grace period is over.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export function dkimRotation(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createTable('dkim_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('domain_id', 'text', (c) => c.notNull())
        .addColumn('selector', 'text', (c) => c.notNull())
        .addColumn('private_key', 'text', (c) => c.notNull())
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('retired_at', 'bigint')
        .execute();
      await db.schema.createIndex('dkim_keys_domain').on('dkim_keys').columns(['domain_id', 'state']).execute();
    },
  };
}
