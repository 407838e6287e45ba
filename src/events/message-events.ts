/**
 * What happened to each recipient, as an append-only event stream in the
 * store. Events are written in the same transaction as the state change they
 * describe, so the log and webhooks never miss or invent one.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';

export const EVENT_TYPES = ['accepted', 'delivered', 'deferred', 'bounced', 'complained', 'suppressed', 'expired', 'sandboxed', 'scheduled', 'cancelled', 'unsubscribed', 'opened', 'clicked'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface MessageEvent {
  accountId: string | null;
  messageId: string;
  deliveryId: string | null;
  recipient: string | null;
  type: EventType;
  reply?: string | null;
  bounceClass?: string | null;
  at: number;
}

export async function recordEvents(db: Kysely<Database>, events: readonly MessageEvent[]): Promise<void> {
  if (events.length === 0) return;
  for (let i = 0; i < events.length; i += 500) {
    await db.insertInto('message_events').values(events.slice(i, i + 500).map((e) => ({
      account_id: e.accountId, message_id: e.messageId, delivery_id: e.deliveryId, recipient: e.recipient, type: e.type,
      reply: e.reply ?? null, bounce_class: e.bounceClass ?? null, created_at: e.at,
    }))).execute();
  }
}
