/**
 * What a secret key may do (its scope) and how much it has sent. Every new
 * column is empty or 'full' for existing keys, so they keep today's meaning:
 * any address on the account's verified domains, the account's whole limit,
 * SMTP and the whole API, from anywhere, for ever.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export function keyScopes(): Migration {
  return {
    async up(db: Kysely<any>) {
      // One statement per column: SQLite's ALTER TABLE adds one at a time.
      await db.schema.alterTable('secret_keys').addColumn('allowed_from', 'text').execute();
      await db.schema.alterTable('secret_keys').addColumn('daily_limit', 'integer').execute();
      await db.schema.alterTable('secret_keys').addColumn('channel', 'text', (c) => c.notNull().defaultTo('full')).execute();
      await db.schema.alterTable('secret_keys').addColumn('ip_ranges', 'text').execute();
      await db.schema.alterTable('secret_keys').addColumn('expires_at', 'bigint').execute();
      await db.schema.alterTable('secret_keys').addColumn('last_used_ip', 'text').execute();
      // Per-minute counters like `usage`, so a key's rolling 24 hours is as cheap to sum as its account's.
      await db.schema.createTable('key_usage')
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('minute', 'bigint', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('key_usage_pk', ['key_id', 'minute'])
        .execute();
      await db.schema.createIndex('key_usage_minute').on('key_usage').column('minute').execute();
    },
  };
}
