/**
 * What happened to each recipient, as an append-only event stream in the
 * store. Events are written in the same transaction as the state change they
 * describe, so the log and webhooks never miss or invent one.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';

export const EVENT_TYPES = ['accepted', 'delivered', 'deferred', 'bounced', 'complained', 'suppressed', 'expired', 'sandboxed', 'scheduled', 'cancelled', 'unsubscribed', 'opened', 'clicked'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * Events about an account rather than a message (their message_id is ''):
 * `auth.failures` — many failed logins for the account (accounts/auth-throttle.ts).
 * Webhooks and the dashboard hear them like message events.
 */
export const ACCOUNT_EVENT_TYPES = ['auth.failures'] as const;

/**
 * What happens to a sending domain, told to its owner through the same stream (and so the same
 * crash-safe webhook feed); such events have no message (message_id '').
 */
export const DOMAIN_EVENT_TYPES = ['domain_records_changed', 'domain_records_restored', 'dkim_key_rotated', 'dmarc_weekly_summary'] as const;
export type DomainEventType = (typeof DOMAIN_EVENT_TYPES)[number];

/**
 * Mail caught for a "receive here" address (events/caught-mail.ts), with the confirmation
 * code and link found: asked for by name, like domain events; no message (message_id '').
 */
export const RECEIVE_EVENT_TYPES = ['mail_caught'] as const;
export type ReceiveEventType = (typeof RECEIVE_EVENT_TYPES)[number];

/** What a webhook endpoint hears when it names no events: domain and receive events are asked for by name. */
export const DEFAULT_WEBHOOK_EVENT_TYPES = [...EVENT_TYPES, ...ACCOUNT_EVENT_TYPES] as const;
/** What a webhook endpoint may subscribe to. */
export const WEBHOOK_EVENT_TYPES = [...EVENT_TYPES, ...ACCOUNT_EVENT_TYPES, ...DOMAIN_EVENT_TYPES, ...RECEIVE_EVENT_TYPES] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface MessageEvent {
  accountId: string | null;
  messageId: string;
  deliveryId: string | null;
  recipient: string | null;
  type: EventType | DomainEventType | ReceiveEventType;
  reply?: string | null;
  bounceClass?: string | null;
  at: number;
  /** For an attempt's outcome: the rule that classified it, and when the next attempt and the expiry are (epoch ms). */
  details?: EventDetails | null;
}

export interface EventDetails {
  rule?: string;
  nextAttemptAt?: number;
  expiresAt?: number;
  /** Domain events: the domain, and what changed. */
  domain?: string;
  records?: Array<{ purpose: string; type: string; name: string; error: string }>;
  selector?: string;
  removableAfter?: number;
  /** mail_caught: the caught message and what was found in it. */
  caught?: { id: string; from: string; subject: string; code: string | null; link: string | null };
  /** dmarc_weekly_summary: what the week's DMARC aggregate reports said. */
  dmarc?: DmarcWeeklySummary;
}

export interface DmarcWeeklySummary {
  /** The reports that arrived in [from, to] (epoch ms). */
  from: number;
  to: number;
  reports: number;
  messages: number;
  passed: number;
  failed: number;
  /** Sources that sent as the domain without passing SPF or DKIM alignment, most failures first (at most 10). */
  flaggedSources: Array<{ sourceIp: string; messages: number; failed: number }>;
  flaggedCount: number;
}

export function parseEventDetails(raw: string | null): EventDetails | null {
  if (!raw) return null;
  try {
    const value: unknown = JSON.parse(raw);
    return value && typeof value === 'object' ? (value as EventDetails) : null;
  } catch {
    return null;
  }
}

export async function recordEvents(db: Kysely<Database>, events: readonly MessageEvent[]): Promise<void> {
  if (events.length === 0) return;
  for (let i = 0; i < events.length; i += 500) {
    await db.insertInto('message_events').values(events.slice(i, i + 500).map((e) => ({
      account_id: e.accountId, message_id: e.messageId, delivery_id: e.deliveryId, recipient: e.recipient, type: e.type,
      reply: e.reply ?? null, bounce_class: e.bounceClass ?? null, created_at: e.at, details: e.details ? JSON.stringify(e.details) : null,
    }))).execute();
  }
}
