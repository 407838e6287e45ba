/**
 * Which MTA-STS policy applied to a delivery attempt, and what failed under it
 * (`{mode, policyId, failure?}` as JSON; null when the domain has no policy).
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export function attemptMtaSts(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('attempts').addColumn('mta_sts', 'text').execute();
    },
  };
}
