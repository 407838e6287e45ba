/**
 * Failed logins and the locks they cause, shared by every node: the limit of
 * 10 failures per IP or account in 10 minutes holds for the installation,
 * not for each node an attacker spreads its guesses over.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export function authThrottle(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createTable('auth_failures')
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('auth_failures_key_at').on('auth_failures').columns(['key', 'at']).execute();
      await db.schema.createIndex('auth_failures_at').on('auth_failures').column('at').execute();
      await db.schema.createTable('auth_locks')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('locked_until', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('auth_locks_until').on('auth_locks').column('locked_until').execute();
    },
  };
}
