/** Keeping and giving back the leases a worker holds. */
import type { Store } from '../store/database.ts';

/** Pushes the lease end of deliveries this owner still holds. */
export async function extendLeases(store: Store, owner: string, ids: readonly string[], until: number): Promise<void> {
  if (ids.length === 0) return;
  await store.db.updateTable('deliveries').set({ next_attempt_at: until })
    .where('lease_owner', '=', owner).where('id', 'in', [...ids]).where('status', 'in', ['queued', 'deferred']).execute();
}

/** Gives deliveries back at once (graceful stop), so another node need not wait for the lease to run out. */
export async function releaseLeases(store: Store, owner: string, ids: readonly string[], now: number): Promise<void> {
  if (ids.length === 0) return;
  await store.db.updateTable('deliveries').set({ next_attempt_at: now, lease_owner: null })
    .where('lease_owner', '=', owner).where('id', 'in', [...ids]).where('status', 'in', ['queued', 'deferred']).execute();
}
