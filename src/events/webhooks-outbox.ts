/**
 * The webhook outbox: the `webhook_deliveries` table as a leased outbox (queue/leased-outbox.ts),
 * the same machinery that takes mail. The dispatcher (webhooks-dispatcher.ts) claims due rows
 * with a lease; an attempt settles its row (webhooks-send.ts) or, when the dispatcher stops or
 * the lease would run out mid-request, gives it back.
 */
import { sql, type Kysely } from 'kysely';
import type { Engine } from '../store/database.ts';
import type { Database, WebhookDeliveriesTable } from '../store/schema.ts';
import { LeasedOutbox } from '../queue/leased-outbox.ts';

export type WebhookDeliveryStatus = WebhookDeliveriesTable['status'];

/** A pending row is tried until it is delivered or given up (failed); both are final. */
const TRANSITIONS: Readonly<Record<WebhookDeliveryStatus, readonly WebhookDeliveryStatus[]>> = {
  pending: ['pending', 'delivered', 'failed'],
  delivered: [],
  failed: [],
};

export const WEBHOOK_OUTBOX = new LeasedOutbox<WebhookDeliveryStatus>({
  table: 'webhook_deliveries',
  pending: ['pending'],
  changeStatus(db, from, to, columns) {
    for (const status of from) {
      if (!TRANSITIONS[status].includes(to)) throw new Error(`a webhook delivery may not go from ${status} to ${to} (events/webhooks-outbox.ts)`);
    }
    return db.updateTable('webhook_deliveries').set({ ...columns, status: to }).where('status', 'in', from);
  },
  claimed: sql`id, webhook_id, event_type, payload, attempt_count, created_at`,
});

export interface ClaimedWebhookDelivery {
  id: string;
  webhook_id: string;
  event_type: string;
  payload: string;
  attempt_count: number;
  created_at: number;
  url: string;
  secret: string;
}

/** In the caller's transaction (the queue writer's). */
export async function claimWebhookDeliveries(tx: Kysely<Database>, engine: Engine, owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedWebhookDelivery[]> {
  const claimed = await WEBHOOK_OUTBOX.claim<Omit<ClaimedWebhookDelivery, 'url' | 'secret'>>(tx, engine, { owner, now, leaseMs, limit });
  if (claimed.length === 0) return [];
  const webhookIds = [...new Set(claimed.map((row) => row.webhook_id))];
  const endpoints = await tx.selectFrom('webhooks').select(['id', 'url', 'secret']).where('id', 'in', webhookIds).execute();
  const byId = new Map(endpoints.map((endpoint) => [endpoint.id, endpoint]));
  return claimed.flatMap((row) => {
    const endpoint = byId.get(row.webhook_id);
    // A deleted endpoint takes its outbox rows with it (cascade); nothing to send.
    if (!endpoint) return [];
    return [{ ...row, attempt_count: Number(row.attempt_count), created_at: Number(row.created_at), url: endpoint.url, secret: endpoint.secret }];
  });
}

/** Gives a claimed row back untouched (shutting down), so another dispatcher sends it now. */
export async function releaseClaim(db: Kysely<Database>, rowId: string, owner: string, now: number): Promise<void> {
  await WEBHOOK_OUTBOX.release(db, { owner, ids: [rowId], dueAt: now });
}
