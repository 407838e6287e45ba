/**
 * Reads what comes back to a VERP address: a delivery status notification (RFC 3464, a bounce
 * or delay report from the recipient's side) or a feedback report (ARF, RFC 5965, a spam
 * complaint from a mailbox provider's feedback loop). The VERP address already says which
 * delivery it is about; this says what happened to which recipient.
 *
 * postal-mime does the MIME work. It hands the report parts (message/delivery-status,
 * message/feedback-report) and the returned original back as attachments, which we read as
 * text; the report fields themselves are simple "Name: value" groups, parsed here.
 */
import PostalMime from 'postal-mime';
import type { Attachment, Email } from 'postal-mime';

export interface ReportedRecipient {
  address: string;
  /** RFC 3463 status, e.g. '5.1.1' ('' when the report had none). */
  status: string;
  /** failed | delayed | delivered | relayed | expanded: only 'failed' is a bounce. */
  action: string;
  /** The remote server's reply, without the "smtp;" type, when given. */
  diagnostic?: string;
  remoteMta?: string;
}

export type InboundReport =
  | { kind: 'bounce'; recipients: ReportedRecipient[]; reportingMta?: string }
  | { kind: 'complaint'; feedbackType: string; originalRecipient?: string; originalMailFrom?: string; userAgent?: string }
  | { kind: 'unknown' };

type Fields = Map<string, string>;

export async function parseInboundReport(raw: Buffer): Promise<InboundReport> {
  let email: Email;
  try {
    email = await PostalMime.parse(raw, { attachmentEncoding: 'utf8' });
  } catch {
    return { kind: 'unknown' };
  }
  const reportType = reportTypeOf(email);

  const status = findPart(email, ['message/delivery-status', 'message/global-delivery-status']);
  if (status && reportType !== 'feedback-report') {
    const [perMessage, ...perRecipient] = fieldGroups(textOf(status));
    const recipients = perRecipient.map(recipientOf).filter((r): r is ReportedRecipient => r !== null);
    if (recipients.length === 0) return { kind: 'unknown' };
    return { kind: 'bounce', recipients, ...optional('reportingMta', typed(perMessage?.get('reporting-mta'))) };
  }

  const feedback = findPart(email, ['message/feedback-report']);
  if (feedback) {
    const fields = fieldGroups(textOf(feedback))[0] ?? new Map<string, string>();
    const originalRecipient = bareAddress(fields.get('original-rcpt-to')) ?? (await originalTo(email));
    return {
      kind: 'complaint',
      feedbackType: (fields.get('feedback-type') ?? 'abuse').toLowerCase(),
      ...optional('originalRecipient', originalRecipient),
      ...optional('originalMailFrom', bareAddress(fields.get('original-mail-from'))),
      ...optional('userAgent', fields.get('user-agent')),
    };
  }
  return { kind: 'unknown' };
}

function recipientOf(fields: Fields): ReportedRecipient | null {
  const address = bareAddress(typed(fields.get('final-recipient') ?? fields.get('original-recipient')));
  if (!address) return null;
  const recipient: ReportedRecipient = {
    address,
    status: /\d\.\d{1,3}\.\d{1,3}/.exec(fields.get('status') ?? '')?.[0] ?? '',
    action: (fields.get('action') ?? '').trim().toLowerCase(),
  };
  const diagnostic = typed(fields.get('diagnostic-code'));
  if (diagnostic) recipient.diagnostic = diagnostic;
  const remoteMta = typed(fields.get('remote-mta'));
  if (remoteMta) recipient.remoteMta = remoteMta;
  return recipient;
}

/** "Name: value" lines in blank-line separated groups, continuation lines unfolded. */
function fieldGroups(text: string): Fields[] {
  const unfolded = text.replace(/\r\n/g, '\n').replace(/\n[ \t]+/g, ' ');
  return unfolded
    .split(/\n\s*\n/)
    .map((block) => {
      const fields: Fields = new Map();
      for (const line of block.split('\n')) {
        const m = /^([A-Za-z0-9-]+)\s*:\s*(.*)$/.exec(line);
        // The first occurrence wins: that is the one the reporting MTA wrote.
        if (m && !fields.has(m[1].toLowerCase())) fields.set(m[1].toLowerCase(), m[2].trim());
      }
      return fields;
    })
    .filter((fields) => fields.size > 0);
}

/** "rfc822; user@example.org" → "user@example.org" (the value after the type). */
function typed(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const semi = value.indexOf(';');
  return (semi >= 0 ? value.slice(semi + 1) : value).trim() || undefined;
}

function bareAddress(value: string | undefined): string | undefined {
  const address = value?.trim().replace(/^<(.*)>$/, '$1').trim();
  return address && address.includes('@') ? address : undefined;
}

function reportTypeOf(email: Email): string | undefined {
  const contentType = email.headers.find((h) => h.key === 'content-type')?.value ?? '';
  return /report-type\s*=\s*"?([A-Za-z-]+)"?/i.exec(contentType)?.[1].toLowerCase();
}

function findPart(email: Email, types: string[]): Attachment | undefined {
  return email.attachments.find((a) => types.includes(a.mimeType.toLowerCase()));
}

function textOf(attachment: Attachment): string {
  const { content } = attachment;
  if (typeof content === 'string') return content;
  return Buffer.from(content instanceof ArrayBuffer ? new Uint8Array(content) : content).toString('utf8');
}

/** The To of the returned original, for reports that leave out Original-Rcpt-To. */
async function originalTo(email: Email): Promise<string | undefined> {
  const original = findPart(email, ['message/rfc822', 'text/rfc822-headers']);
  if (!original) return undefined;
  try {
    const parsed = await PostalMime.parse(textOf(original));
    const first = parsed.to?.[0];
    return first && 'address' in first ? bareAddress(first.address) : undefined;
  } catch {
    return undefined;
  }
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value ? { [key]: value } : {}) as { [P in K]?: string };
}
