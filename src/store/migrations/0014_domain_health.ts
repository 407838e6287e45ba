/**
 * What the scheduled re-check of a verified domain found wrong, kept until it is right again:
 * JSON `{since, records: [{purpose, type, name, error}]}`; null while every record checks out.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export function domainHealth(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('domains').addColumn('health_alert', 'text').execute();
    },
  };
}
