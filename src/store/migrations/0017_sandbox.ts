/**
 * Sandbox mode ("trial mode"), on an account or on one secret key: mail is
 * accepted, checked, signed and recorded like any other, and delivered
 * nowhere. 0 = off, 1 = on; existing accounts and keys start off.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export function sandbox(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('accounts').addColumn('sandbox', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('secret_keys').addColumn('sandbox', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    },
  };
}
