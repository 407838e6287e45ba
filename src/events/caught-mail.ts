/**
 * Mail caught for "receive here" addresses (domains/receive-here.ts): read
 * once on arrival with postal-mime — sender, subject, text, and the
 * confirmation code and link (confirmation-codes.ts) — and kept with its raw
 * bytes until `expires_at` (MAILROOM_CAUGHT_MAIL_RETENTION), when retention
 * deletes it.
 */
import PostalMime from 'postal-mime';
import type { Kysely } from 'kysely';
import type { Store } from '../store/database.ts';
import type { CaughtMessagesTable, Database } from '../store/schema.ts';
import { newId } from '../store/ids.ts';
import { UserError } from '../errors.ts';
import { extractConfirmation } from './confirmation-codes.ts';
import { recordEvents } from '../queue/message-events.ts';

/**
 * The most caught messages an account keeps: a confirmation is one message, and an address
 * that strangers find and flood must not fill the store. The oldest go first.
 */
export const CAUGHT_PER_ACCOUNT = 100;

/** Enough for any confirmation message; a long newsletter is cut (the raw message stays whole for forwarding). */
const TEXT_LIMIT = 50_000;

export interface CaughtSummary {
  id: string;
  recipient: string;
  mailFrom: string;
  headerFrom: string;
  subject: string;
  code: string | null;
  link: string | null;
  size: number;
  receivedAt: number;
  expiresAt: number;
  forwarded: { to: string; messageId: string; at: number } | null;
}

export interface CaughtMessage extends CaughtSummary {
  text: string;
}

export interface ReadMail {
  headerFrom: string;
  subject: string;
  text: string;
  code: string | null;
  link: string | null;
}

export async function readCaughtMail(raw: Buffer, mailFrom: string): Promise<ReadMail> {
  let email;
  try {
    email = await PostalMime.parse(raw);
  } catch {
    return { headerFrom: '', subject: '', text: '', code: null, link: null };
  }
  const headerFrom = email.from && 'address' in email.from ? (email.from.address ?? '') : '';
  const html = email.html ?? '';
  const text = email.text?.trim() ? email.text : htmlAsText(html);
  // Links in the HTML's hrefs count too: an HTML-only message often shows words, not the URL.
  const hrefs = [...html.matchAll(/href\s*=\s*["']([^"']+)["']/gi)].map((m) => decodeEntities(m[1]));
  const found = extractConfirmation(`${text}\n${hrefs.join('\n')}`, [mailFrom, headerFrom].filter((s) => s !== ''));
  return { headerFrom, subject: email.subject ?? '', text: text.slice(0, TEXT_LIMIT), ...found };
}

export interface CatchRequest {
  accountId: string;
  recipient: string;
  mailFrom: string;
  raw: Buffer;
  clientIp: string | null;
  now: number;
  retentionMs: number;
}

/** One caught message for one recipient: plain data, so the queue writer can run it on its thread. */
export interface CaughtMail {
  id: string;
  request: CatchRequest;
  read: ReadMail;
}

/** Stores one caught message with its `mail_caught` event (webhooks), in the caller's transaction (the queue writer's `catchMail`). */
export async function catchMessage(tx: Kysely<Database>, { id, request, read }: CaughtMail): Promise<void> {
  await tx.insertInto('caught_messages').values({
    id, account_id: request.accountId, recipient: request.recipient, mail_from: request.mailFrom, header_from: read.headerFrom,
    subject: read.subject, text_body: read.text, code: read.code, link: read.link, size: request.raw.length, raw: request.raw,
    client_ip: request.clientIp, received_at: request.now, expires_at: request.now + request.retentionMs,
    forwarded_to: null, forwarded_message_id: null, forwarded_at: null,
  }).execute();
  const from = read.headerFrom || request.mailFrom;
  await recordEvents(tx, [{
    accountId: request.accountId, messageId: '', deliveryId: null, recipient: request.recipient, at: request.now, type: 'mail_caught',
    reply: `caught mail from ${from || '(null sender)'}: ${read.subject}`.slice(0, 1000),
    details: { caught: { id, from, subject: read.subject, code: read.code, link: read.link } },
  }]);
  const beyond = await tx.selectFrom('caught_messages').select(['id', 'recipient', 'received_at']).where('account_id', '=', request.accountId)
    .orderBy('received_at', 'desc').orderBy('id', 'desc').offset(CAUGHT_PER_ACCOUNT).limit(1000).execute();
  await deleteCaughtRows(tx, beyond.map((row) => ({ ...row, account_id: request.accountId })));
}

/** Deletes caught messages with their mail_caught events (which hold the code and link too). */
export async function deleteCaughtRows(tx: Kysely<Database>, rows: ReadonlyArray<{ id: string; account_id: string; recipient: string; received_at: number }>): Promise<number> {
  if (rows.length === 0) return 0;
  const result = await tx.deleteFrom('caught_messages').where('id', 'in', rows.map((row) => row.id)).executeTakeFirst();
  for (const row of rows) {
    await tx.deleteFrom('message_events').where('type', '=', 'mail_caught').where('account_id', '=', row.account_id)
      .where('recipient', '=', row.recipient).where('created_at', '=', row.received_at).execute();
  }
  return Number(result.numDeletedRows);
}

const SUMMARY_COLUMNS = ['id', 'recipient', 'mail_from', 'header_from', 'subject', 'code', 'link', 'size', 'received_at', 'expires_at', 'forwarded_to', 'forwarded_message_id', 'forwarded_at'] as const;

type SummaryRow = Pick<CaughtMessagesTable, (typeof SUMMARY_COLUMNS)[number]>;

const toSummary = (row: SummaryRow): CaughtSummary => ({
  id: row.id, recipient: row.recipient, mailFrom: row.mail_from, headerFrom: row.header_from, subject: row.subject, code: row.code, link: row.link,
  size: Number(row.size), receivedAt: Number(row.received_at), expiresAt: Number(row.expires_at),
  forwarded: row.forwarded_to && row.forwarded_message_id && row.forwarded_at !== null
    ? { to: row.forwarded_to, messageId: row.forwarded_message_id, at: Number(row.forwarded_at) } : null,
});

/** Newest first; expired mail is not shown even before retention has deleted it. */
export async function listCaught(store: Store, accountId: string, now = Date.now(), limit = 100): Promise<CaughtSummary[]> {
  const rows = await store.db.selectFrom('caught_messages').select([...SUMMARY_COLUMNS])
    .where('account_id', '=', accountId).where('expires_at', '>', now)
    .orderBy('received_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  return rows.map(toSummary);
}

export async function getCaught(store: Store, accountId: string, id: string, now = Date.now()): Promise<CaughtMessage & { raw: Buffer }> {
  const row = await store.db.selectFrom('caught_messages').select([...SUMMARY_COLUMNS, 'text_body', 'raw'])
    .where('id', '=', id).where('account_id', '=', accountId).where('expires_at', '>', now).executeTakeFirst();
  if (!row) throw new UserError('not-found', 'unknown_caught_message', `no caught message with the id ${id} (caught mail is kept for a short time only)`, 'id');
  return { ...toSummary(row), text: row.text_body, raw: Buffer.from(row.raw) };
}

export async function deleteCaught(store: Store, accountId: string, id: string): Promise<void> {
  const result = await store.db.deleteFrom('caught_messages').where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw new UserError('not-found', 'unknown_caught_message', `no caught message with the id ${id}`, 'id');
}

export async function markForwarded(store: Store, id: string, forwarded: { to: string; messageId: string; at: number }): Promise<void> {
  await store.db.updateTable('caught_messages')
    .set({ forwarded_to: forwarded.to, forwarded_message_id: forwarded.messageId, forwarded_at: forwarded.at })
    .where('id', '=', id).execute();
}

/** Text of an HTML-only message, for reading and for finding the code: tags dropped, blocks on their own lines. */
function htmlAsText(html: string): string {
  return decodeEntities(html
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, '')
    .replace(/<br\s*\/?>|<\/(p|div|tr|li|h[1-6])>/gi, '\n')
    .replace(/<[^>]*>/g, ''))
    .replace(/[ \t]+/g, ' ')
    .replace(/\n\s*\n\s*/g, '\n\n')
    .trim();
}

function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (_m, name: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", nbsp: ' ' })[name] ?? '');
}
