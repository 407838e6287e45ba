/** Whether a sending domain allows open and click tracking (both off until its owner turns them on). */
import type { Store } from '../store/database.ts';

export interface TrackingSettings {
  opens: boolean;
  clicks: boolean;
}

export async function trackingSettings(store: Store, domainId: string): Promise<TrackingSettings> {
  const row = await store.db.selectFrom('domain_tracking').select(['opens', 'clicks']).where('domain_id', '=', domainId).executeTakeFirst();
  return { opens: Number(row?.opens ?? 0) === 1, clicks: Number(row?.clicks ?? 0) === 1 };
}

export async function setTrackingSettings(store: Store, domainId: string, settings: TrackingSettings, now = Date.now()): Promise<void> {
  const values = { opens: settings.opens ? 1 : 0, clicks: settings.clicks ? 1 : 0, updated_at: now };
  await store.db.insertInto('domain_tracking').values({ domain_id: domainId, ...values })
    .onConflict((oc) => oc.column('domain_id').doUpdateSet(values)).execute();
}
