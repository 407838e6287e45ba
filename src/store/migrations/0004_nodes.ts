/** The nodes of an installation, each heart-beating, so operators can see who is alive and what it holds. */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export function nodes(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createTable('nodes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('hostname', 'text', (c) => c.notNull())
        .addColumn('roles', 'text', (c) => c.notNull())
        .addColumn('listeners', 'text', (c) => c.notNull())
        .addColumn('pid', 'integer', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  };
}
