/**
 * The message log as users read it: one message with each recipient's status
 * and every delivery attempt (the remote reply included), and a filtered list
 * of messages, newest first, a page at a time. The CLI reads it now and the
 * HTTP API (`GET /api/v1/messages[/:id]`) returns the same shapes, so both
 * edges say the same thing about a message.
 *
 * `accountId` scopes every read: an API caller passes its own account and
 * never sees another's mail; the operator's CLI passes null to see all.
 */
import { readHeaders } from '../message/headers.ts';
import { sql } from 'kysely';
import type { Store } from '../store/database.ts';
import { UserError } from '../errors.ts';
import type { StsAttemptFacts } from '../queue/outcome.ts';
import { explain, type Explanation } from '../remote-replies/explanations.ts';
import { timeOfId } from '../store/ids.ts';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../queue/delivery-status.ts';

export interface AttemptView {
  at: string;
  /** The MX host tried last (or the relay host); null when no host was reached (DNS, null MX). */
  mx: string | null;
  ip: string | null;
  /** How TLS went on the connection: `{used, version?, authorized?}`; null for attempts that never connected. */
  tls: { used: boolean; version?: string; authorized?: boolean } | null;
  /** The remote server's own words, or our description of what failed. */
  reply: string;
  durationMs: number;
  /** Present when the recipient domain has an MTA-STS policy: its mode and id, and what failed under it. */
  mtaSts?: StsAttemptFacts;
  /** The reply in plain words; null for a delivery. */
  explanation: Explanation | null;
}

export interface RecipientView {
  address: string;
  status: DeliveryStatus;
  /** The status in plain words (the last attempt's problem, for deferred, bounced and expired; a site's reply for queued mail it held back); else null. */
  explanation: Explanation | null;
  /** Queued or deferred: when the next attempt is due (ISO 8601); null once the delivery is settled. */
  nextAttemptAt: string | null;
  /** Queued or deferred: when Mailroom gives up if it has not delivered by then; null once settled or when unknown. */
  expiresAt: string | null;
  /** The last remote reply, also of a site that held the recipient back without an attempt (queue/hold-back.ts). */
  lastReply: string | null;
  attempts: AttemptView[];
}

export interface MessageReadOptions {
  /** MAILROOM_MAX_QUEUE_TIME, to say when pending deliveries expire. */
  maxQueueTime?: number;
  /** MAILROOM_HISTORY_RETENTION, to explain a message that is gone. */
  historyRetentionMs?: number | null;
}

export interface MessageView {
  id: string;
  from: string;
  subject: string;
  createdAt: string;
  tags: string[];
  /** The header fields as accepted (before signing), names in lower case. */
  headers: Array<{ name: string; value: string }>;
  recipients: RecipientView[];
  /** Only once retention deleted the body (MAILROOM_BODY_RETENTION): when it did. The headers above remain. */
  bodyExpiredAt?: string;
  /** Only when something of the message is gone: says what, in words. */
  notice?: string;
  /** The stored template and version the message was rendered from; absent for a message written in full. */
  template?: { name: string; version: number };
}

export interface MessageSummary {
  id: string;
  /** The sending account's email; null for Mailroom's own reports (DSNs). */
  account: string | null;
  from: string;
  subject: string;
  createdAt: string;
  tags: string[];
  recipients: Array<{ address: string; status: DeliveryStatus }>;
}

export interface MessageFilter {
  /** null: every account (operators). */
  accountId: string | null;
  /** Messages with a recipient at this address. */
  recipient?: string;
  /** Messages with at least one recipient in this status. */
  status?: string;
  tag?: string;
  /** The sender: the header From or the envelope sender. */
  from?: string;
  limit: number;
  /** `next` of the previous page. */
  cursor?: string;
}

export interface MessagePage {
  items: MessageSummary[];
  /** Present when there may be more: pass it as `cursor` for the next page. */
  next?: string;
}

export const MAX_PAGE_SIZE = 100;

// Ids are lower-case base 36 (store/ids.ts); a cursor is the last id of a page.
const ID_PATTERN = /^[0-9a-z]{1,40}$/;

export async function findMessage(store: Store, id: string, accountId: string | null, options: MessageReadOptions = {}): Promise<MessageView | null> {
  if (!ID_PATTERN.test(id)) return null;
  let query = store.db.selectFrom('messages').select(['id', 'header_from', 'mail_from', 'subject', 'tags', 'raw', 'created_at', 'body_expired_at']).where('id', '=', id);
  if (accountId !== null) query = query.where('account_id', '=', accountId);
  const message = await query.executeTakeFirst();
  if (!message) return null;

  const deliveries = await store.db.selectFrom('deliveries').select(['id', 'recipient', 'status', 'next_attempt_at', 'last_reply', 'created_at'])
    .where('message_id', '=', id).orderBy('created_at').orderBy('id').execute();
  const attempts = await store.db.selectFrom('attempts').select(['delivery_id', 'at', 'outcome', 'mx', 'ip', 'tls', 'reply', 'duration_ms', 'mta_sts', 'rule'])
    .where('message_id', '=', id).orderBy('id').execute();
  const byDelivery = new Map<string, AttemptView[]>();
  const lastRule = new Map<string, string | null>();
  for (const a of attempts) {
    const list = byDelivery.get(a.delivery_id) ?? [];
    const mtaSts = parseMtaSts(a.mta_sts);
    const explanation = explain({ status: a.outcome, rule: a.rule, reply: a.reply });
    list.push({ at: iso(a.at), mx: a.mx, ip: a.ip, tls: parseTls(a.tls), reply: a.reply, durationMs: Number(a.duration_ms), ...(mtaSts ? { mtaSts } : {}), explanation });
    byDelivery.set(a.delivery_id, list);
    lastRule.set(a.delivery_id, a.rule);
  }
  const pending = (status: string) => status === 'queued' || status === 'deferred';
  const template = await store.db.selectFrom('message_templates').select(['template_name', 'version']).where('message_id', '=', id).executeTakeFirst();
  const view: MessageView = {
    ...(template ? { template: { name: template.template_name, version: Number(template.version) } } : {}),
    id: message.id,
    from: senderOf(message),
    subject: message.subject,
    createdAt: iso(message.created_at),
    tags: parseTags(message.tags),
    headers: readHeaders(Buffer.from(message.raw)),
    recipients: deliveries.map((d) => ({
      address: d.recipient,
      status: d.status,
      explanation: explain({ status: d.status, rule: lastRule.get(d.id) ?? null, reply: d.last_reply }),
      nextAttemptAt: pending(d.status) ? iso(d.next_attempt_at) : null,
      expiresAt: pending(d.status) && options.maxQueueTime !== undefined ? iso(Number(d.created_at) + options.maxQueueTime) : null,
      lastReply: d.last_reply,
      attempts: byDelivery.get(d.id) ?? [],
    })),
  };
  if (message.body_expired_at !== null) {
    view.bodyExpiredAt = iso(message.body_expired_at);
    view.notice = `The body of this message expired: retention deleted it at ${view.bodyExpiredAt} (MAILROOM_BODY_RETENTION). `
      + 'Its headers and delivery history remain until MAILROOM_HISTORY_RETENTION deletes them too.';
  }
  return view;
}

/**
 * findMessage, or a not-found error the CLI and API turn into exit code 3 / HTTP 404. An id
 * older than the history retention gets its own code and words: the message may well have
 * existed, and retention deleted it.
 */
export async function getMessage(store: Store, id: string, accountId: string | null, options: MessageReadOptions = {}, now = Date.now()): Promise<MessageView> {
  const message = await findMessage(store, id, accountId, options);
  if (message) return message;
  const madeAt = ID_PATTERN.test(id) ? timeOfId(id) : null;
  const retentionMs = options.historyRetentionMs ?? null;
  if (madeAt !== null && retentionMs !== null && madeAt < now - retentionMs && madeAt > Date.UTC(2000, 0)) {
    throw new UserError('not-found', 'message_expired',
      `message ${id} was created at ${iso(madeAt)}, longer ago than the message history is kept (MAILROOM_HISTORY_RETENTION = ${days(retentionMs)}); `
      + 'if it existed, retention has deleted it with its delivery history', 'id');
  }
  throw new UserError('not-found', 'unknown_message', `no message with the id ${id}`, 'id');
}

function days(ms: number): string {
  return ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : `${Math.round(ms / 1000)}s`;
}

export async function listMessages(store: Store, filter: MessageFilter): Promise<MessagePage> {
  const limit = checkedLimit(filter.limit);
  if (filter.status !== undefined && !(DELIVERY_STATUSES as readonly string[]).includes(filter.status)) {
    throw new UserError('invalid', 'invalid_status', `status must be one of ${DELIVERY_STATUSES.join(', ')}`, 'status');
  }
  if (filter.cursor !== undefined && !ID_PATTERN.test(filter.cursor)) {
    throw new UserError('invalid', 'invalid_cursor', 'the cursor is not one this list handed out', 'cursor');
  }

  let query = store.db.selectFrom('messages').select(['id', 'account_id', 'header_from', 'mail_from', 'subject', 'tags', 'created_at'])
    .orderBy('id', 'desc').limit(limit + 1);
  if (filter.accountId !== null) query = query.where('account_id', '=', filter.accountId);
  if (filter.cursor !== undefined) query = query.where('id', '<', filter.cursor);
  if (filter.from) {
    const from = filter.from.trim();
    const forms = [...new Set([from, from.toLowerCase()])];
    query = query.where((eb) => eb.or([eb('header_from', 'in', forms), eb('mail_from', 'in', forms)]));
  }
  if (filter.tag) {
    // Tags are stored as a JSON array of strings; the quoted form matches one whole tag.
    // (SQLite's LIKE ignores ASCII case, so there tags match without case.)
    const pattern = `%${escapeLike(JSON.stringify(filter.tag))}%`;
    query = query.where(sql<boolean>`tags like ${pattern} escape '\\'`);
  }
  if (filter.recipient || filter.status) {
    query = query.where(({ exists, selectFrom }) => {
      let sub = selectFrom('deliveries').select('deliveries.id').whereRef('deliveries.message_id', '=', 'messages.id');
      if (filter.recipient) {
        // Recipients are stored as submitted; most are lower case, so the lower-cased form is tried too.
        const recipient = filter.recipient.trim();
        sub = sub.where('deliveries.recipient', 'in', [...new Set([recipient, recipient.toLowerCase()])]);
      }
      if (filter.status) sub = sub.where('deliveries.status', '=', filter.status as DeliveryStatus); // checked above
      return exists(sub);
    });
  }
  const rows = await query.execute();
  const page = rows.slice(0, limit);

  const statuses = page.length === 0 ? [] : await store.db.selectFrom('deliveries').select(['message_id', 'recipient', 'status'])
    .where('message_id', 'in', page.map((m) => m.id)).orderBy('created_at').orderBy('id').execute();
  const recipients = new Map<string, MessageSummary['recipients']>();
  for (const d of statuses) {
    const list = recipients.get(d.message_id) ?? [];
    list.push({ address: d.recipient, status: d.status });
    recipients.set(d.message_id, list);
  }
  const accountIds = [...new Set(page.flatMap((m) => (m.account_id ? [m.account_id] : [])))];
  const emails = new Map(accountIds.length === 0 ? [] : (await store.db.selectFrom('accounts').select(['id', 'email']).where('id', 'in', accountIds).execute())
    .map((a) => [a.id, a.email] as const));
  const items = page.map((m) => ({
    id: m.id, account: m.account_id ? emails.get(m.account_id) ?? null : null, from: senderOf(m), subject: m.subject, createdAt: iso(m.created_at), tags: parseTags(m.tags), recipients: recipients.get(m.id) ?? [],
  }));
  return rows.length > limit ? { items, next: page[page.length - 1].id } : { items };
}

function checkedLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new UserError('invalid', 'invalid_limit', `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`, 'limit');
  }
  return limit;
}

/** What the user wrote in From; for mail without one we fall back to the envelope sender. */
function senderOf(row: { header_from: string; mail_from: string }): string {
  return row.header_from || row.mail_from;
}

function iso(at: number): string {
  return new Date(Number(at)).toISOString();
}

function parseTls(raw: string | null): AttemptView['tls'] {
  if (raw === null) return null;
  try {
    const value = JSON.parse(raw) as AttemptView['tls'];
    return value && typeof value === 'object' ? value : null;
  } catch {
    return null;
  }
}

function parseMtaSts(raw: string | null): StsAttemptFacts | null {
  if (raw === null) return null;
  try {
    const value = JSON.parse(raw) as StsAttemptFacts;
    return value && typeof value === 'object' ? value : null;
  } catch {
    return null;
  }
}

function parseTags(raw: string): string[] {
  try {
    const value: unknown = JSON.parse(raw);
    return Array.isArray(value) ? value.filter((t): t is string => typeof t === 'string') : [];
  } catch {
    return [];
  }
}

/** LIKE's wildcards taken literally, with the ESCAPE character named in the query (SQLite has no default one). */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
