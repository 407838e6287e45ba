/**
 * From the JSON of POST /api/v1/messages to MIME bytes. Every value that ends
 * up in a header is checked first: a CR or LF in it could start a header of
 * its own (header injection), so it is refused naming the field rather than
 * cleaned up. Addresses are parsed once and handed to the composer as
 * parsed, so the envelope and the headers cannot disagree.
 */
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { addressParser } from 'postal-mime';
import { isEmailAddress } from '../message/address.ts';
import { ApiError } from './errors.ts';

export interface MessageInput {
  from?: string;
  to?: string | string[];
  cc?: string | string[];
  bcc?: string | string[];
  replyTo?: string | string[];
  subject?: string;
  text?: string;
  html?: string;
  headers?: Record<string, string>;
  attachments?: Array<{ filename: string; content: string; contentType?: string }>;
  tags?: string[];
  raw?: string;
}

export interface ParsedAddress {
  name: string;
  address: string;
  /** The request field it came from, e.g. `cc[1]`. */
  field: string;
}

/** Set by the composer from the request's own fields; `headers` may not override them. */
const RESERVED_HEADERS = new Set([
  'from', 'sender', 'to', 'cc', 'bcc', 'reply-to', 'subject', 'date', 'mime-version', 'content-type', 'content-transfer-encoding',
  'content-disposition', 'received', 'return-path', 'dkim-signature',
]);

const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]{1,76}$/;
const CONTENT_TYPE = /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function rejectLineBreaks(value: string, field: string): void {
  if (/[\r\n]/.test(value)) {
    throw new ApiError(400, 'header_injection', `${field} must not contain line breaks (CR or LF): it goes into a header`, field);
  }
}

export function parseAddresses(value: string | string[] | undefined, field: string): ParsedAddress[] {
  if (value === undefined) return [];
  const items = Array.isArray(value) ? value.map((item, index) => ({ item, field: `${field}[${index}]` })) : [{ item: value, field }];
  return items.flatMap(({ item, field: itemField }) => {
    rejectLineBreaks(item, itemField);
    const parsed = addressParser(item).flatMap((entry) => ('group' in entry && entry.group ? entry.group : [entry])) as Array<{ name?: string; address?: string }>;
    if (parsed.length === 0) throw new ApiError(400, 'invalid_address', `${itemField} holds no email address`, itemField);
    return parsed.map((entry) => {
      const address = (entry.address ?? '').trim();
      if (!isEmailAddress(address)) throw new ApiError(400, 'invalid_address', `${itemField}: "${address || item}" is not an email address`, itemField);
      return { name: (entry.name ?? '').trim(), address, field: itemField };
    });
  });
}

export function parseSender(value: string | undefined, field: string): ParsedAddress {
  const parsed = parseAddresses(value, field);
  if (parsed.length !== 1) throw new ApiError(400, parsed.length === 0 ? 'missing_from' : 'invalid_address', `${field} must be exactly one address`, field);
  return parsed[0];
}

/** The MIME message for the JSON form; the caller has already parsed the addresses. */
export async function composeMessage(
  input: MessageInput,
  parsed: { from: ParsedAddress; to: ParsedAddress[]; cc: ParsedAddress[]; replyTo: ParsedAddress[] },
  defaults: { messageId: string; date: Date },
): Promise<Buffer> {
  if (input.subject !== undefined) rejectLineBreaks(input.subject, 'subject');
  const headers: Record<string, string> = {};
  let messageId = defaults.messageId;
  for (const [name, value] of Object.entries(input.headers ?? {})) {
    const field = `headers.${name}`;
    if (!FIELD_NAME.test(name)) throw new ApiError(400, 'invalid_header', `${field}: a header name is printable ASCII without spaces or colons`, field);
    rejectLineBreaks(value, field);
    const lower = name.toLowerCase();
    if (RESERVED_HEADERS.has(lower)) throw new ApiError(400, 'reserved_header', `${field} is set from the message's own fields; use them instead`, field);
    if (lower === 'message-id') messageId = value;
    else headers[name] = value;
  }
  const attachments = (input.attachments ?? []).map((attachment, index) => {
    const field = `attachments[${index}]`;
    rejectLineBreaks(attachment.filename, `${field}.filename`);
    if (attachment.contentType !== undefined) {
      rejectLineBreaks(attachment.contentType, `${field}.contentType`);
      if (!CONTENT_TYPE.test(attachment.contentType)) throw new ApiError(400, 'invalid_content_type', `${field}.contentType must be a type such as application/pdf`, `${field}.contentType`);
    }
    const content = attachment.content.replace(/\s+/g, '');
    if (!BASE64.test(content) || content.length % 4 !== 0) throw new ApiError(400, 'invalid_base64', `${field}.content must be base64`, `${field}.content`);
    return { filename: attachment.filename, content: Buffer.from(content, 'base64'), ...(attachment.contentType ? { contentType: attachment.contentType } : {}) };
  });
  const mailbox = (a: ParsedAddress) => ({ name: a.name, address: a.address });
  const composer = new MailComposer({
    from: mailbox(parsed.from),
    ...(parsed.to.length > 0 ? { to: parsed.to.map(mailbox) } : {}),
    ...(parsed.cc.length > 0 ? { cc: parsed.cc.map(mailbox) } : {}),
    ...(parsed.replyTo.length > 0 ? { replyTo: parsed.replyTo.map(mailbox) } : {}),
    subject: input.subject ?? '',
    ...(input.text !== undefined ? { text: input.text } : {}),
    ...(input.html !== undefined ? { html: input.html } : {}),
    headers, attachments, messageId, date: defaults.date,
  });
  return crlf(await composer.compile().build());
}

/** The `raw` form: strict base64 of a MIME message, its line endings made CRLF as SMTP requires. */
export function decodeRawMessage(raw: string): Buffer {
  const compact = raw.replace(/\s+/g, '');
  if (compact.length === 0 || !BASE64.test(compact) || compact.length % 4 !== 0) throw new ApiError(400, 'invalid_base64', 'raw must be a base64-encoded MIME message', 'raw');
  const message = crlf(Buffer.from(compact, 'base64'));
  if (message.indexOf(Buffer.from('\r\n\r\n')) === -1 && !/^[\x21-\x39\x3b-\x7e]+:/.test(message.subarray(0, 100).toString('latin1'))) {
    throw new ApiError(400, 'invalid_message', 'raw does not start with a header section', 'raw');
  }
  return message;
}

/**
 * Bare LF (and lone CR) become CRLF: the composer leaves the text part's own
 * line breaks alone, and a raw message may come from a Unix file. CR and LF
 * bytes never occur inside a UTF-8 sequence, so a byte-wise rewrite is safe.
 */
function crlf(message: Buffer): Buffer {
  return Buffer.from(message.toString('latin1').replace(/\r\n|\r|\n/g, '\r\n'), 'latin1');
}
