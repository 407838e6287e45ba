/**
 * Each node's own heartbeat interval, so whoever reads the registry judges a
 * node stale by that node's rhythm (MAILROOM_HEARTBEAT_INTERVAL may differ
 * between nodes, and from the CLI's own configuration).
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export function nodeHeartbeat(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('nodes').addColumn('heartbeat_ms', 'integer', (c) => c.notNull().defaultTo(10_000)).execute();
    },
  };
}
