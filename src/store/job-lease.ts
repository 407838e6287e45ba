/**
 * A lease on a named background job, so that in a cluster one node at a time
 * runs it. The holder renews it while it works; a holder that dies lets it
 * run out and another node takes over. Both statements are plain conditional
 * writes, atomic on either engine.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

export interface JobLeaseRequest {
  name: string;
  owner: string;
  now: number;
  ttlMs: number;
}

/** Takes or renews the lease; true when `owner` holds it until now + ttlMs. */
export async function takeJobLease(tx: Kysely<Database>, { name, owner, now, ttlMs }: JobLeaseRequest): Promise<boolean> {
  await tx.insertInto('job_leases').values({ name, owner, expires_at: now + ttlMs })
    .onConflict((oc) => oc.column('name').doNothing()).execute();
  const result = await tx.updateTable('job_leases').set({ owner, expires_at: now + ttlMs })
    .where('name', '=', name)
    .where((eb) => eb.or([eb('owner', '=', owner), eb('expires_at', '<=', now)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Lets go at once, so another node need not wait for the lease to run out. */
export async function releaseJobLease(tx: Kysely<Database>, { name, owner }: { name: string; owner: string }): Promise<void> {
  await tx.deleteFrom('job_leases').where('name', '=', name).where('owner', '=', owner).execute();
}
