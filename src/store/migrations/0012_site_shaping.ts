/**
 * Adaptive shaping per site (src/queue/shaping.ts), shared by every node: a site that asked
 * one node for less gets less from all of them. Also the site's delivery statistics, summed
 * over the nodes.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export function siteShaping(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createTable('site_shaping')
        .addColumn('site', 'text', (c) => c.primaryKey())
        .addColumn('concurrency', 'integer')
        .addColumn('rate', 'double precision')
        .addColumn('grow_step', 'double precision', (c) => c.notNull().defaultTo(1))
        .addColumn('suspended_until', 'bigint')
        .addColumn('pinned_concurrency', 'integer')
        .addColumn('pinned_rate', 'double precision')
        .addColumn('last_change', 'text')
        .addColumn('changed_at', 'bigint', (c) => c.notNull())
        .addColumn('last_decrease_at', 'bigint')
        .addColumn('reason', 'text')
        .addColumn('reason_rule', 'text')
        .addColumn('delivered', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('deferred', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('bounced', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('throttled', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('held', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('domains', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  };
}
