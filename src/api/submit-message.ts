/**
 * POST /api/v1/messages as a checklist, the same checks SMTP makes, from the
 * same policy functions: build the message, who it goes to, how many, how
 * big, may this account send as this sender and this From, is any recipient
 * suppressed — then the durable commit through the shared Enqueuer (which
 * also applies the daily limit and idempotency). The answer is the queue id
 * or an ApiError; every policy refusal is worded by refusal-responses.ts.
 */
import { accountDomainFacts } from '../domains/domains.ts';
import type { Store } from '../store/database.ts';
import type { Config } from '../config/options.ts';
import type { Enqueuer, SuppressedRecipient } from '../queue/enqueue.ts';
import { newId } from '../store/ids.ts';
import { addressParser } from 'postal-mime';
import { isEmailAddress } from '../message/address.ts';
import { authoriseEnvelopeSender, authoriseHeaderAuthors, identityOf } from '../accounts/authorise.ts';
import { refuse, type Verdict } from '../policy/refusal.ts';
import { checkMessageLines } from '../policy/message-lines.ts';
import { findSuppression, type Suppression } from '../suppressions/suppressions.ts';
import { decodedSubject, headerFromAddress, headerFromAddresses, readHeaders, rfc5322Date } from '../message/headers.ts';
import { withTraceHeaders, withoutHeader } from '../message/trace-headers.ts';
import type { Principal } from './auth.ts';
import { ApiError } from './errors.ts';
import { errorForRefusal, type RefusalFields } from './refusal-responses.ts';
import { composeMessage, decodeRawMessage, parseAddresses, parseSender, type MessageInput, type ParsedAddress } from './compose-message.ts';
import { applyTemplate, type TemplateFields } from './template-input.ts';
import { scheduledTime } from './send-at.ts';
import { withUnsubscribeHeaders } from './unsubscribe-input.ts';
import { withTracking, type TrackRequest } from './tracking-input.ts';

export interface SubmitDeps {
  config: Config;
  store: Store;
  enqueuer: Enqueuer;
}

export interface SubmitContext {
  idempotencyKey: string | null;
  clientIp: string;
}

interface Prepared {
  raw: Buffer;
  mailFrom: string;
  recipients: ParsedAddress[];
  fields: RefusalFields;
}

const JSON_ONLY_FIELDS = ['subject', 'text', 'html', 'headers', 'attachments', 'replyTo'] as const;

export async function submitMessage(deps: SubmitDeps, principal: Principal, request: MessageInput & TemplateFields & TrackRequest & { sendAt?: string; unsubscribe?: boolean }, context: SubmitContext): Promise<{ id: string; duplicate: boolean; recipients: number; size: number }> {
  const { config, store, enqueuer } = deps;
  const id = newId();
  const now = Date.now();
  const sendAt = scheduledTime(request.sendAt, now, config.maxScheduleAhead);
  const rendered = await applyTemplate(store, principal.accountId, request);
  const { template } = rendered;
  const unsubscribable = await withUnsubscribeHeaders(store, config, rendered.input, { messageId: id, accountId: principal.accountId });
  const input = await withTracking(store, config, unsubscribable, { messageId: id, accountId: principal.accountId });
  const prepared = input.raw !== undefined ? prepareRaw(input) : await prepareComposed(input, id, now, config.hostname);
  const { raw, mailFrom, recipients, fields } = prepared;
  const refuseWith = (verdict: Verdict) => {
    if (!verdict.ok) throw errorForRefusal(verdict.refusal, fields, now);
  };

  if (recipients.length === 0) throw new ApiError(400, 'missing_recipient', 'a message needs at least one recipient in to, cc or bcc', 'to');
  if (recipients.length > config.maxRecipients) refuseWith(refuse({ kind: 'too-many-recipients', max: config.maxRecipients }));
  if (raw.length > config.maxMessageSize) refuseWith(refuse({ kind: 'message-too-big', max: config.maxMessageSize }));
  // NUL bytes and lines over 998 octets, as over SMTP; composed messages never have them (the composer encodes long lines).
  refuseWith(checkMessageLines(raw));

  const domains = await accountDomainFacts(store, principal.accountId);
  refuseWith(authoriseEnvelopeSender(principal, mailFrom, domains));
  const headerFields = readHeaders(raw);
  const authors = headerFromAddresses(headerFields);
  refuseWith(authoriseHeaderAuthors(principal, authors, domains));
  const headerFrom = authors?.[0] ?? null;

  // Suppressed recipients are recorded as such and skipped, as the hosted relays do; only a
  // message that would reach nobody is refused (over SMTP each is refused at its RCPT).
  const deliverable: string[] = [];
  const suppressed: SuppressedRecipient[] = [];
  let firstSuppression: Suppression | null = null;
  for (const recipient of recipients) {
    const suppression = await findSuppression(store.db, principal.accountId, recipient.address);
    if (!suppression) {
      deliverable.push(recipient.address);
      continue;
    }
    firstSuppression ??= suppression;
    suppressed.push({ address: recipient.address, reply: `suppressed since ${new Date(suppression.createdAt).toISOString()}: ${suppression.reason}` });
  }
  if (deliverable.length === 0 && firstSuppression) {
    refuseWith(refuse({ kind: 'recipient-suppressed', address: firstSuppression.address, reason: firstSuppression.reason, since: firstSuppression.createdAt }));
  }

  const received = `Received: from [${context.clientIp}]\r\n\tby ${config.hostname} (Mailroom HTTP API) with HTTP id ${id};\r\n\t${rfc5322Date(now)}`;
  const result = await enqueuer.enqueue({
    id, accountId: principal.accountId, dailyLimit: principal.dailyLimit, identity: identityOf(principal), mailFrom, headerFrom: headerFrom!,
    subject: decodedSubject(headerFields), raw: withTraceHeaders(raw, headerFields, { id, hostname: config.hostname, now, received }),
    recipients: deliverable, suppressed, source: 'api', tags: input.tags ?? [], clientIp: context.clientIp,
    idempotencyKey: context.idempotencyKey, template, sandbox: principal.sandbox, sendAt,
  }).catch((error: unknown) => {
    // The commit failed (a full disk, a lost database): nothing was stored, and the caller must hear it may retry.
    const answer = new ApiError(503, 'not_accepted', 'The message could not be stored and was not accepted; try again later', undefined, { 'retry-after': '30' });
    throw Object.assign(answer, { cause: error });
  });
  if (!result.ok) throw errorForRefusal(result.refusal, fields, now);
  return { id: result.id, duplicate: result.duplicate, recipients: deliverable.length, size: raw.length };
}

async function prepareComposed(input: MessageInput, id: string, now: number, hostname: string): Promise<Prepared> {
  const from = parseSender(input.from, 'from');
  const to = parseAddresses(input.to, 'to');
  const cc = parseAddresses(input.cc, 'cc');
  const bcc = parseAddresses(input.bcc, 'bcc');
  const replyTo = parseAddresses(input.replyTo, 'replyTo');
  const raw = await composeMessage(input, { from, to, cc, replyTo }, { messageId: `<${id}@${hostname}>`, date: new Date(now) });
  const recipients = unique([...to, ...cc, ...bcc]);
  return { raw, mailFrom: from.address, recipients, fields: fieldsFor(recipients, 'from', 'from', undefined) };
}

/** The raw form: envelope from the request when given, else from the message's own From/To/Cc/Bcc. */
function prepareRaw(input: MessageInput): Prepared {
  const mixed = JSON_ONLY_FIELDS.find((name) => input[name] !== undefined);
  if (mixed) throw new ApiError(400, 'raw_with_fields', `${mixed} cannot be combined with raw: put it in the MIME message`, mixed);
  let raw = decodeRawMessage(input.raw!);
  const headers = readHeaders(raw);
  const given = input.to !== undefined || input.cc !== undefined || input.bcc !== undefined;
  const recipients = given
    ? unique([...parseAddresses(input.to, 'to'), ...parseAddresses(input.cc, 'cc'), ...parseAddresses(input.bcc, 'bcc')])
    : unique(['to', 'cc', 'bcc'].flatMap((name) => headers.filter((h) => h.name === name).flatMap((h) => addressesIn(h.value))));
  // Bcc recipients are told only to the envelope; the header must not reach anyone.
  raw = withoutHeader(raw, 'bcc');
  const mailFrom = input.from !== undefined ? parseSender(input.from, 'from').address : (headerFromAddress(headers) ?? '');
  return { raw, mailFrom, recipients, fields: fieldsFor(recipients, input.from !== undefined ? 'from' : 'raw', 'raw', 'raw') };
}

/** Addresses of a To/Cc/Bcc header of a raw message; groups such as "undisclosed-recipients:;" hold none. */
function addressesIn(value: string): ParsedAddress[] {
  const entries = addressParser(value).flatMap((entry) => ('group' in entry && entry.group ? entry.group : [entry])) as Array<{ name?: string; address?: string }>;
  return entries.flatMap((entry) => {
    const address = (entry.address ?? '').trim();
    if (address === '') return [];
    if (!isEmailAddress(address)) throw new ApiError(400, 'invalid_address', `raw: "${address}" in the message's headers is not an email address`, 'raw');
    return [{ name: entry.name ?? '', address, field: 'raw' }];
  });
}

function fieldsFor(recipients: ParsedAddress[], sender: string, headerFrom: string, message: string | undefined): RefusalFields {
  return {
    sender, headerFrom, message,
    recipient: (address) => recipients.find((r) => r.address.toLowerCase() === address.toLowerCase())?.field ?? (message ?? 'to'),
  };
}

function unique(addresses: ParsedAddress[]): ParsedAddress[] {
  const seen = new Set<string>();
  return addresses.filter((a) => {
    const key = a.address.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

