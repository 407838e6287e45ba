/**
 * Recipient domains' MTA-STS policies (RFC 8461), cached for their max_age in the store, so every
 * node applies what any node fetched and a restart does not forget a policy: a downgrade attack
 * (dropping the TXT record) then meets the cached policy, as the RFC intends.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export function mtaStsPolicies(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createTable('mta_sts_policies')
        .addColumn('domain', 'text', (c) => c.primaryKey())
        .addColumn('policy_id', 'text', (c) => c.notNull())
        .addColumn('mode', 'text', (c) => c.notNull())
        .addColumn('mx', 'text', (c) => c.notNull())
        .addColumn('max_age', 'bigint', (c) => c.notNull())
        .addColumn('fetched_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  };
}
