/**
 * The bounce we send: an RFC 3464 delivery status notification telling the original sender
 * which recipients failed and what their servers said. multipart/report (RFC 6522) with a
 * human-readable part, the machine-readable message/delivery-status part, and the original
 * headers as text/rfc822-headers (headers only: the sender has the body, and returning it
 * would turn every bounce of a large attachment into another large message).
 *
 * Built by hand rather than with nodemailer's MailComposer: MailComposer cannot make a
 * multipart/report with its report-type parameter, and would re-encode the delivery-status
 * part, whose exact field layout is the point. The format is small and fixed, so writing it
 * out keeps every byte visible here. The result is enqueued with the null sender <>, so a
 * bounce of this bounce can never happen (RFC 5321 4.5.5).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { parseReply } from '../remote-replies/classify.ts';

export interface DsnRecipient {
  address: string;
  /** The final reply: the remote's own words, or our description when there were none. */
  reply: string;
  /** RFC 3463 status such as '5.1.1'; taken from the reply's enhanced code when omitted. */
  status?: string;
  /** The MX host that gave the reply, when one did. */
  remoteMta?: string | null;
  /** 'failed' (a bounce, the default) or 'delayed' (a warning that retries continue). */
  action?: 'failed' | 'delayed';
  lastAttemptAt?: Date;
}

export interface DsnInput {
  /** MAILROOM_HOSTNAME: Reporting-MTA and the MAILER-DAEMON address. */
  hostname: string;
  /** The original envelope sender, who receives the DSN. Never empty: nobody bounces a bounce. */
  originalSender: string;
  /** The original message; only its header section is attached. */
  originalMessage: Buffer;
  arrivalDate: Date;
  recipients: DsnRecipient[];
  /** Our queue id of the original, to find it again from the bounce. */
  queueId?: string;
  now?: Date;
}

const CRLF = '\r\n';

export function buildDsn(input: DsnInput): Buffer {
  if (!input.originalSender) throw new RangeError('no DSN for a message with the null sender (it would bounce a bounce)');
  if (input.recipients.length === 0) throw new RangeError('a DSN needs at least one recipient');
  const now = input.now ?? new Date();
  const boundary = `=_mailroom_dsn_${randomBytes(12).toString('hex')}`;
  const failed = input.recipients.some((r) => (r.action ?? 'failed') === 'failed');
  const originalHeaders = headerSection(input.originalMessage);

  const head = [
    `From: Mail Delivery System <MAILER-DAEMON@${input.hostname}>`,
    `To: <${input.originalSender}>`,
    `Subject: ${failed ? 'Undelivered Mail Returned to Sender' : 'Delayed Mail (still being retried)'}`,
    `Date: ${rfc5322Date(now)}`,
    `Message-ID: <${randomUUID()}@${input.hostname}>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
  ];

  const perMessage = [
    `Reporting-MTA: dns; ${input.hostname}`,
    ...(input.queueId ? [`X-Mailroom-Queue-ID: ${input.queueId}`] : []),
    `Arrival-Date: ${rfc5322Date(input.arrivalDate)}`,
  ];
  const perRecipient = input.recipients.map((r) => recipientFields(r).join(CRLF));

  const parts = [
    part(['Content-Type: text/plain; charset=utf-8', 'Content-Description: Notification', 'Content-Transfer-Encoding: 8bit'],
      humanText(input, failed)),
    part(['Content-Type: message/delivery-status', 'Content-Description: Delivery report', 'Content-Transfer-Encoding: 7bit'],
      [perMessage.join(CRLF), ...perRecipient].join(CRLF + CRLF) + CRLF),
    part(['Content-Type: text/rfc822-headers', 'Content-Description: Undelivered message headers',
      `Content-Transfer-Encoding: ${/[^\x00-\x7f]/.test(originalHeaders) ? '8bit' : '7bit'}`], originalHeaders),
  ];

  const body = parts.map((p) => `--${boundary}${CRLF}${p}`).join(CRLF) + `${CRLF}--${boundary}--${CRLF}`;
  return Buffer.from(head.join(CRLF) + CRLF + CRLF + 'This is a MIME-encapsulated delivery status notification.' + CRLF + CRLF + body, 'utf8');
}

/** The RFC 3463 status a reply stands for: its enhanced code, else its class with no detail. */
export function statusOf(reply: string, action: 'failed' | 'delayed' = 'failed'): string {
  const { code, enhanced } = parseReply(reply);
  if (enhanced && enhanced[0] === String(code)[0]) return enhanced;
  if (code >= 400 && code < 600) return `${String(code)[0]}.0.0`;
  return action === 'failed' ? '5.0.0' : '4.0.0';
}

function recipientFields(r: DsnRecipient): string[] {
  const action = r.action ?? 'failed';
  const isSmtpReply = /^\d{3}([ -]|$)/.test(r.reply.trim());
  // One line per reply: multi-line SMTP replies are joined, then folded to stay within limits.
  const diagnostic = r.reply.trim().split(/\r?\n/).map((l) => l.trim()).join(' ');
  return [
    `Final-Recipient: rfc822; ${r.address}`,
    `Action: ${action}`,
    `Status: ${r.status ?? statusOf(r.reply, action)}`,
    ...(r.remoteMta ? [`Remote-MTA: dns; ${r.remoteMta}`] : []),
    fold(`Diagnostic-Code: ${isSmtpReply ? 'smtp' : 'X-Mailroom'}; ${ascii(diagnostic)}`),
    ...(r.lastAttemptAt ? [`Last-Attempt-Date: ${rfc5322Date(r.lastAttemptAt)}`] : []),
  ];
}

function humanText(input: DsnInput, failed: boolean): string {
  const lines = [
    `This is the mail system at ${input.hostname}.`,
    '',
    failed
      ? 'Your message could not be delivered to one or more recipients. The reasons are below, in the words of the receiving servers where they gave any.'
      : 'Your message has not been delivered yet to one or more recipients. Delivery will be retried; you do not need to resend it.',
    '',
  ];
  for (const r of input.recipients) {
    lines.push(`<${r.address}>: ${r.remoteMta ? `${r.remoteMta} said: ` : ''}${r.reply.trim().split(/\r?\n/).join(' ').slice(0, 900)}`, '');
  }
  return lines.join(CRLF);
}

function part(headers: string[], content: string): string {
  return headers.join(CRLF) + CRLF + CRLF + content + (content.endsWith(CRLF) ? '' : CRLF);
}

/** The original's header section, ending with CRLF, line endings normalised. */
function headerSection(raw: Buffer): string {
  const text = raw.toString('utf8');
  const end = text.search(/\r?\n\r?\n/);
  const head = end >= 0 ? text.slice(0, end) : text;
  return head.split(/\r?\n/).join(CRLF) + CRLF;
}

/** Folds a header at spaces to lines of at most ~78 characters (RFC 5322 2.1.1). */
function fold(line: string): string {
  const words = line.split(' ');
  const out: string[] = [];
  let current = '';
  for (const word of words) {
    if (current && current.length + 1 + word.length > 78) {
      out.push(current);
      current = ` ${word}`;
    } else {
      current = current ? `${current} ${word}` : word;
    }
  }
  out.push(current);
  return out.map((l) => l.slice(0, 990)).join(CRLF);
}

/** The delivery-status part is 7bit; a reply with other bytes keeps what it can say in ASCII. */
function ascii(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

function rfc5322Date(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}
