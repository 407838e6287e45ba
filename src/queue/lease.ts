/** Keeping and giving back the leases a worker holds (each in the caller's transaction: the queue writer's). */
import type { Kysely } from 'kysely';
import type { Engine } from '../store/database.ts';
import type { Database } from '../store/schema.ts';
import { extendDeliveryLeases } from './claim-deliveries.ts';
import { PENDING_STATUSES } from './delivery-status.ts';

export interface LeaseExtension {
  owner: string;
  ids: readonly string[];
  until: number;
}

export interface LeaseRelease {
  owner: string;
  /** The deliveries to give back; null gives back every lease held under this owner id (a restarted node's leftovers). */
  ids: readonly string[] | null;
  now: number;
}

/** Pushes the lease end of deliveries this owner still holds (without waiting for rows being recorded). */
export function extendLeases(tx: Kysely<Database>, engine: Engine, { owner, ids, until }: LeaseExtension): Promise<void> {
  return extendDeliveryLeases(tx, engine, owner, ids, until);
}

/** Gives deliveries back at once (graceful stop, restart), so no one need wait for the lease to run out. */
export async function releaseLeases(tx: Kysely<Database>, { owner, ids, now }: LeaseRelease): Promise<void> {
  if (ids?.length === 0) return;
  let query = tx.updateTable('deliveries').set({ next_attempt_at: now, lease_owner: null })
    .where('lease_owner', '=', owner).where('status', 'in', PENDING_STATUSES);
  if (ids) query = query.where('id', 'in', [...ids]);
  await query.execute();
}
