/**
 * Where MTA-STS policies are kept between fetches: the store, shared by every node and kept
 * across restarts (mta-sts.ts keeps a copy in memory in front of it).
 */
import type { Store } from '../store/database.ts';
import type { StsPolicy } from './mta-sts.ts';
import type { StsMode } from '../queue/outcome.ts';

export interface PolicyStore {
  load(domain: string): Promise<StsPolicy | null>;
  save(policy: StsPolicy): Promise<void>;
}

export function storedPolicies(store: Store): PolicyStore {
  return {
    async load(domain) {
      const row = await store.db.selectFrom('mta_sts_policies').selectAll().where('domain', '=', domain).executeTakeFirst();
      if (!row) return null;
      return {
        domain: row.domain, id: row.policy_id, mode: row.mode as StsMode, mx: JSON.parse(row.mx) as string[],
        maxAgeSeconds: Number(row.max_age), fetchedAt: Number(row.fetched_at), expiresAt: Number(row.expires_at),
      };
    },
    async save(policy) {
      const values = {
        policy_id: policy.id, mode: policy.mode, mx: JSON.stringify(policy.mx), max_age: policy.maxAgeSeconds,
        fetched_at: policy.fetchedAt, expires_at: policy.expiresAt,
      };
      await store.db.insertInto('mta_sts_policies').values({ domain: policy.domain, ...values })
        .onConflict((oc) => oc.column('domain').doUpdateSet(values)).execute();
    },
  };
}
