/**
 * Devices that cannot log in (scanners, printers, old appliances): client
 * address ranges whose mail is taken without AUTH, for a fixed set of senders
 * and within a daily limit of their own. Their emails are counted per device
 * in `key_usage`, under the device's id, as a key's are under the key's.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export function devices(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createTable('devices')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('ip_ranges', 'text', (c) => c.notNull())
        .addColumn('allowed_from', 'text', (c) => c.notNull())
        .addColumn('daily_limit', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('devices_account').on('devices').column('account_id').execute();
    },
  };
}
