/**
 * Fan-out: new message events become outbox rows, one per matching endpoint,
 * in the same transaction that moves the feed's cursor past them. A crash
 * either keeps both or neither, so no event is lost or queued twice.
 */
import type { Kysely } from 'kysely';
import type { Engine } from '../store/database.ts';
import type { Database } from '../store/schema.ts';
import type { WebhookDeliveriesTable } from '../store/schema.ts';
import { newId } from '../store/ids.ts';
import { lockFeedCursor, readFeed, saveFeedCursor, type FeedEvent } from '../store/event-feed.ts';
import { parseEventDetails, type DmarcWeeklySummary, type EventType, type WebhookEventType } from '../queue/message-events.ts';
import { explain, type Explanation } from '../remote-replies/explanations.ts';

export interface WebhookPayload {
  id: string;
  type: WebhookEventType | 'test';
  createdAt: string;
  messageId: string | null;
  recipient: string | null;
  status: string | null;
  reply: string | null;
  bounceClass: string | null;
  /** What happened in plain words, and what to do; null when there is nothing to explain (accepted, delivered). */
  explanation: Explanation | null;
  /** Deferred: when the next attempt is due and when Mailroom gives up (ISO 8601); null otherwise. */
  nextAttemptAt: string | null;
  expiresAt: string | null;
  /** Domain events: the domain and what changed (records now wrong, or the new DKIM selector and when the old record may go). */
  domain: {
    name: string; records?: Array<{ purpose: string; type: string; name: string; error: string }>; selector?: string; removableAfter?: string;
    dmarc?: Omit<DmarcWeeklySummary, 'from' | 'to'> & { from: string; to: string };
  } | null;
  /** mail_caught only: the caught message (GET /api/v1/caught-messages/:id) and its confirmation code and link. */
  caught?: { id: string; from: string; subject: string; code: string | null; link: string | null };
}

/** The recipient's status after each event, in the words of GET /api/v1/messages. */
const STATUS_AFTER: Record<EventType, string | null> = {
  accepted: 'queued', delivered: 'delivered', deferred: 'deferred', bounced: 'bounced',
  complained: 'complained', suppressed: 'suppressed', expired: 'expired', sandboxed: 'sandboxed',
  scheduled: 'scheduled', cancelled: 'cancelled',
  // The delivery's status does not change: the address is suppressed for later mail.
  unsubscribed: null,
  opened: null,
  clicked: null,
};

export function eventPayload(event: FeedEvent): WebhookPayload {
  const type = event.type as WebhookEventType;
  const details = parseEventDetails(event.details);
  const status = STATUS_AFTER[type as EventType] ?? null;
  const iso = (at: number | undefined) => (at === undefined ? null : new Date(at).toISOString());
  return {
    // Account events (auth.failures) and domain events name no message; their `reply` or `domain` says what happened.
    id: `evt_${event.id}`, type, createdAt: new Date(event.created_at).toISOString(), messageId: event.message_id || null,
    recipient: event.recipient, status, reply: event.reply, bounceClass: event.bounce_class,
    explanation: status ? explain({ status, rule: details?.rule ?? null, reply: event.reply }) : null,
    nextAttemptAt: iso(details?.nextAttemptAt), expiresAt: iso(details?.expiresAt),
    domain: details?.domain ? {
      name: details.domain,
      ...(details.records ? { records: details.records } : {}),
      ...(details.selector ? { selector: details.selector } : {}),
      ...(details.removableAfter !== undefined ? { removableAfter: iso(details.removableAfter)! } : {}),
      ...(details.dmarc ? { dmarc: { ...details.dmarc, from: iso(details.dmarc.from)!, to: iso(details.dmarc.to)! } } : {}),
    } : null,
    ...(details?.caught ? { caught: details.caught } : {}),
  };
}

export function testPayload(now: number): WebhookPayload {
  return { id: `test_${newId()}`, type: 'test', createdAt: new Date(now).toISOString(), messageId: null, recipient: null, status: null, reply: null, bounceClass: null, explanation: null, nextAttemptAt: null, expiresAt: null, domain: null };
}

/** Moves up to `limit` events into the outbox, in the caller's transaction (the queue writer's); returns how many events it read. */
export async function fanOutEvents(tx: Kysely<Database>, engine: Engine, limit: number, now: number): Promise<number> {
  const cursor = await lockFeedCursor(tx, engine);
  const feed = await readFeed(tx, engine, cursor, limit);
  if (feed.events.length === 0) return 0;
  const accountIds = [...new Set(feed.events.flatMap((event) => (event.account_id ? [event.account_id] : [])))];
  const endpoints = accountIds.length === 0 ? [] : await tx.selectFrom('webhooks').select(['id', 'account_id', 'events', 'created_at'])
    .where('account_id', 'in', accountIds).execute();
  const wanted = endpoints.map((endpoint) => ({ ...endpoint, events: new Set(JSON.parse(endpoint.events) as string[]) }));
  const rows: WebhookDeliveriesTable[] = [];
  for (const event of feed.events) {
    for (const endpoint of wanted) {
      // An endpoint hears what happens after it was created, not the backlog.
      if (endpoint.account_id !== event.account_id || !endpoint.events.has(event.type) || Number(endpoint.created_at) > event.created_at) continue;
      rows.push({
        id: newId(), webhook_id: endpoint.id, account_id: endpoint.account_id, event_id: event.id, event_type: event.type,
        payload: JSON.stringify(eventPayload(event)), status: 'pending', attempt_count: 0, next_attempt_at: now, lease_owner: null,
        last_status_code: null, last_error: null, created_at: now, updated_at: now, delivered_at: null,
      });
    }
  }
  for (let i = 0; i < rows.length; i += 200) await tx.insertInto('webhook_deliveries').values(rows.slice(i, i + 200)).execute();
  await saveFeedCursor(tx, feed.cursor);
  return feed.events.length;
}
