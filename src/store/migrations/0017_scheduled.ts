/**
 * The release query's index for scheduled sends (queue/schedule.ts): only the
 * deliveries still waiting for their send time, by that time.
 */
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export function scheduled(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createIndex('deliveries_scheduled').on('deliveries').column('next_attempt_at')
        .where(sql.ref('status'), '=', sql.lit('scheduled')).execute();
    },
  };
}
