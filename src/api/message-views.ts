/**
 * Reading the message log for the API: messages, each recipient's delivery
 * and every attempt with the remote server's reply.
 */
import { sql } from 'kysely';
import type { Store } from '../store/database.ts';
import { ApiError } from './errors.ts';

export const DELIVERY_STATUSES = ['queued', 'deferred', 'delivered', 'bounced', 'complained', 'suppressed', 'expired'] as const;

export interface MessageFilter {
  recipient?: string;
  status?: string;
  tag?: string;
  from?: string;
}

export interface MessageRow {
  id: string;
  from: string;
  subject: string;
  createdAt: number;
  tags: string[];
}

export async function listMessages(store: Store, accountId: string, filter: MessageFilter, page: { limit: number; before?: string }): Promise<Array<MessageRow & { recipients: Array<{ address: string; status: string }> }>> {
  let query = store.db.selectFrom('messages').select(['id', 'header_from', 'subject', 'created_at', 'tags'])
    .where('account_id', '=', accountId).orderBy('id', 'desc').limit(page.limit);
  if (page.before) query = query.where('id', '<', page.before);
  if (filter.recipient !== undefined || filter.status !== undefined) {
    query = query.where((eb) => {
      let deliveries = eb.selectFrom('deliveries').select('deliveries.id').whereRef('deliveries.message_id', '=', 'messages.id');
      if (filter.recipient !== undefined) deliveries = deliveries.where(sql<string>`lower(deliveries.recipient)`, '=', filter.recipient.toLowerCase());
      if (filter.status !== undefined) deliveries = deliveries.where('deliveries.status', '=', filter.status);
      return eb.exists(deliveries);
    });
  }
  if (filter.from !== undefined) {
    const from = filter.from.toLowerCase();
    query = query.where((eb) => eb.or([eb(eb.fn('lower', ['header_from']), '=', from), eb(eb.fn('lower', ['mail_from']), '=', from)]));
  }
  if (filter.tag !== undefined) {
    // Tags are stored as a JSON array; the quoted tag with LIKE's wildcards escaped finds it on both engines.
    const pattern = `%${JSON.stringify(filter.tag).replace(/[!%_]/g, '!$&')}%`;
    query = query.where(sql<boolean>`tags like ${pattern} escape '!'`);
  }
  const rows = await query.execute();
  if (rows.length === 0) return [];
  const deliveries = await store.db.selectFrom('deliveries').select(['message_id', 'recipient', 'status'])
    .where('message_id', 'in', rows.map((row) => row.id)).orderBy('id').execute();
  return rows.map((row) => ({
    ...toMessageRow(row),
    recipients: deliveries.filter((d) => d.message_id === row.id).map((d) => ({ address: d.recipient, status: d.status })),
  }));
}

export interface Attempt {
  at: number;
  mx: string | null;
  ip: string | null;
  tls: Record<string, unknown> | null;
  reply: string;
  durationMs: number;
}

export async function getMessage(store: Store, accountId: string, id: string): Promise<MessageRow & { recipients: Array<{ address: string; status: string; attempts: Attempt[] }> }> {
  const row = await store.db.selectFrom('messages').select(['id', 'header_from', 'subject', 'created_at', 'tags'])
    .where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
  if (!row) throw new ApiError(404, 'unknown_message', `no message with the id ${id}`, 'id');
  const [deliveries, attempts] = await Promise.all([
    store.db.selectFrom('deliveries').select(['id', 'recipient', 'status']).where('message_id', '=', id).orderBy('id').execute(),
    store.db.selectFrom('attempts').select(['delivery_id', 'at', 'mx', 'ip', 'tls', 'reply', 'duration_ms']).where('message_id', '=', id).orderBy('at').orderBy('id').execute(),
  ]);
  return {
    ...toMessageRow(row),
    recipients: deliveries.map((d) => ({
      address: d.recipient, status: d.status,
      attempts: attempts.filter((a) => a.delivery_id === d.id).map((a) => ({
        at: Number(a.at), mx: a.mx, ip: a.ip, tls: parseTls(a.tls), reply: a.reply, durationMs: Number(a.duration_ms),
      })),
    })),
  };
}

function toMessageRow(row: { id: string; header_from: string; subject: string; created_at: number; tags: string }): MessageRow {
  return { id: row.id, from: row.header_from, subject: row.subject, createdAt: Number(row.created_at), tags: parseTags(row.tags) };
}

function parseTags(text: string): string[] {
  try {
    const tags = JSON.parse(text);
    return Array.isArray(tags) ? tags.map(String) : [];
  } catch {
    return [];
  }
}

/** The delivery engine writes TLS facts as JSON text, e.g. {"used":true,"version":"TLSv1.3","authorized":false}. */
function parseTls(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text);
    return value && typeof value === 'object' ? value : null;
  } catch {
    return null;
  }
}
