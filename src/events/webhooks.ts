/**
 * Webhook endpoints an account registers: a URL, the event types it wants,
 * and a secret that signs every request (shown once, at creation). What was
 * sent to each endpoint is kept in the outbox and its attempt log.
 */
import { randomBytes } from 'node:crypto';
import type { Store } from '../store/database.ts';
import { newId } from '../store/ids.ts';
import { UserError } from '../errors.ts';
import { DEFAULT_WEBHOOK_EVENT_TYPES, WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../queue/message-events.ts';
import { testPayload } from './webhooks-fanout.ts';
import { DEFAULT_RETRY, postWebhook, recordAttempt, type AttemptResult } from './webhooks-send.ts';

export const MAX_WEBHOOKS_PER_ACCOUNT = 20;

export interface Webhook {
  id: string;
  url: string;
  events: WebhookEventType[];
  createdAt: number;
}

export interface WebhookDeliveryLog {
  id: string;
  eventId: number | null;
  eventType: string;
  status: string;
  attemptCount: number;
  nextAttemptAt: number | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: number;
  deliveredAt: number | null;
  payload: string;
  attempts: Array<{ at: number; statusCode: number | null; error: string | null; durationMs: number }>;
}

export function checkWebhookUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UserError('invalid', 'invalid_url', `"${raw}" is not a URL such as https://example.com/hooks/mailroom`, 'url');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UserError('invalid', 'invalid_url', 'a webhook URL must start with https:// or http://', 'url');
  return url.toString();
}

export async function createWebhook(store: Store, accountId: string, input: { url: string; events?: readonly string[] }): Promise<{ webhook: Webhook; secret: string }> {
  const url = checkWebhookUrl(input.url);
  const events = [...new Set(input.events ?? DEFAULT_WEBHOOK_EVENT_TYPES)];
  const unknown = events.find((type) => !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(type));
  if (unknown !== undefined) throw new UserError('invalid', 'invalid_event', `unknown event type "${unknown}"; choose from ${WEBHOOK_EVENT_TYPES.join(', ')}`, 'events');
  if (events.length === 0) throw new UserError('invalid', 'invalid_event', 'choose at least one event type', 'events');
  const count = await store.db.selectFrom('webhooks').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', accountId).executeTakeFirstOrThrow();
  if (Number(count.n) >= MAX_WEBHOOKS_PER_ACCOUNT) {
    throw new UserError('conflict', 'too_many_webhooks', `an account may have at most ${MAX_WEBHOOKS_PER_ACCOUNT} webhooks; delete one first`, 'url');
  }
  const secret = 'whsec_' + randomBytes(24).toString('base64url');
  const webhook: Webhook = { id: newId(), url, events: events as WebhookEventType[], createdAt: Date.now() };
  await store.db.insertInto('webhooks').values({
    id: webhook.id, account_id: accountId, url, events: JSON.stringify(webhook.events), secret, created_at: webhook.createdAt,
  }).execute();
  return { webhook, secret };
}

export async function listWebhooks(store: Store, accountId: string, page: { limit: number; after?: string }): Promise<Webhook[]> {
  let query = store.db.selectFrom('webhooks').select(['id', 'url', 'events', 'created_at'])
    .where('account_id', '=', accountId).orderBy('id').limit(page.limit);
  if (page.after) query = query.where('id', '>', page.after);
  return (await query.execute()).map(toWebhook);
}

export async function getWebhook(store: Store, accountId: string, id: string): Promise<Webhook & { secret: string }> {
  const row = await store.db.selectFrom('webhooks').selectAll().where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
  if (!row) throw new UserError('not-found', 'unknown_webhook', `no webhook with the id ${id}`, 'id');
  return { ...toWebhook(row), secret: row.secret };
}

export async function deleteWebhook(store: Store, accountId: string, id: string): Promise<void> {
  const result = await store.db.deleteFrom('webhooks').where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw new UserError('not-found', 'unknown_webhook', `no webhook with the id ${id}`, 'id');
}

/** Newest first, each with its most recent attempts. */
export async function listWebhookDeliveries(store: Store, webhookId: string, page: { limit: number; before?: string }): Promise<WebhookDeliveryLog[]> {
  let query = store.db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId).orderBy('id', 'desc').limit(page.limit);
  if (page.before) query = query.where('id', '<', page.before);
  const rows = await query.execute();
  if (rows.length === 0) return [];
  const attempts = await store.db.selectFrom('webhook_attempts').selectAll()
    .where('delivery_id', 'in', rows.map((row) => row.id)).orderBy('id', 'desc').execute();
  return rows.map((row) => ({
    id: row.id, eventId: row.event_id === null ? null : Number(row.event_id), eventType: row.event_type, status: row.status,
    attemptCount: row.attempt_count, nextAttemptAt: row.status === 'pending' ? Number(row.next_attempt_at) : null,
    lastStatusCode: row.last_status_code, lastError: row.last_error, createdAt: Number(row.created_at),
    deliveredAt: row.delivered_at === null ? null : Number(row.delivered_at), payload: row.payload,
    attempts: attempts.filter((a) => a.delivery_id === row.id).slice(0, 10)
      .map((a) => ({ at: Number(a.at), statusCode: a.status_code, error: a.error, durationMs: a.duration_ms })),
  }));
}

/** Sent and given-up rows are history; after this long they are only clutter. */
export async function pruneWebhookDeliveries(store: Store, olderThan: number): Promise<void> {
  await store.db.deleteFrom('webhook_deliveries').where('status', 'in', ['delivered', 'failed']).where('updated_at', '<', olderThan).execute();
}

function toWebhook(row: { id: string; url: string; events: string; created_at: number }): Webhook {
  return { id: row.id, url: row.url, events: JSON.parse(row.events) as WebhookEventType[], createdAt: Number(row.created_at) };
}

/**
 * Sends a test event to the endpoint now and answers what happened. It goes
 * through the outbox like any event, so it shows in the deliveries log, but
 * is tried once: nobody wants a test retried for three days.
 */
export async function sendTestEvent(store: Store, webhook: Webhook & { secret: string }, accountId: string, timeoutMs = 10_000): Promise<{ deliveryId: string } & AttemptResult> {
  const now = Date.now();
  const owner = `test/${randomBytes(4).toString('hex')}`;
  const payload = JSON.stringify(testPayload(now));
  const row = { id: newId(), url: webhook.url, secret: webhook.secret, payload, event_type: 'test', attempt_count: 0, created_at: now };
  await store.db.insertInto('webhook_deliveries').values({
    id: row.id, webhook_id: webhook.id, account_id: accountId, event_id: null, event_type: 'test', payload, status: 'pending', attempt_count: 0,
    next_attempt_at: now + timeoutMs * 3, lease_owner: owner, last_status_code: null, last_error: null, created_at: now, updated_at: now, delivered_at: null,
  }).execute();
  const result = await postWebhook(row, { now, timeoutMs });
  await recordAttempt(store.db, row, owner, result, Date.now(), DEFAULT_RETRY, true);
  return { deliveryId: row.id, ...result };
}
