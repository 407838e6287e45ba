/** Keeping and giving back the leases a worker holds. */
import type { Store } from '../store/database.ts';
import { extendDeliveryLeases } from '../store/claim-deliveries.ts';

/** Pushes the lease end of deliveries this owner still holds (without waiting for rows being recorded). */
export function extendLeases(store: Store, owner: string, ids: readonly string[], until: number): Promise<void> {
  return extendDeliveryLeases(store, owner, ids, until);
}

/** Gives deliveries back at once (graceful stop), so another node need not wait for the lease to run out. */
export async function releaseLeases(store: Store, owner: string, ids: readonly string[], now: number): Promise<void> {
  if (ids.length === 0) return;
  await store.db.updateTable('deliveries').set({ next_attempt_at: now, lease_owner: null })
    .where('lease_owner', '=', owner).where('id', 'in', [...ids]).where('status', 'in', ['queued', 'deferred']).execute();
}

/** Gives back every lease held under this owner id (a restarted node's leftovers). */
export async function releaseOwnLeases(store: Store, owner: string, now: number): Promise<void> {
  await store.db.updateTable('deliveries').set({ next_attempt_at: now, lease_owner: null })
    .where('lease_owner', '=', owner).where('status', 'in', ['queued', 'deferred']).execute();
}
