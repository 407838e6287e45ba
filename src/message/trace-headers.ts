/**
 * Header work every accepted message gets, whichever door it came in by
 * (SMTP DATA or POST /api/v1/messages): the Received trace in front, and
 * Message-ID and Date when the sender left them out (RFC 5322 requires a
 * Date; a Message-ID lets replies thread and bounces be matched).
 */
import { headerValue, prependHeaders, rfc5322Date, type HeaderField } from './headers.ts';

export interface TraceInfo {
  /** The queue id, which also names the Message-ID when one is added. */
  id: string;
  hostname: string;
  now: number;
  /** The complete Received header line(s), without the final CRLF. */
  received: string;
}

export function withTraceHeaders(raw: Buffer, fields: readonly HeaderField[], trace: TraceInfo): Buffer {
  const added = [trace.received];
  if (!headerValue(fields, 'message-id')) added.push(`Message-ID: <${trace.id}@${trace.hostname}>`);
  if (!headerValue(fields, 'date')) added.push(`Date: ${rfc5322Date(trace.now)}`);
  return prependHeaders(raw, added);
}

const CRLF_CRLF = Buffer.from('\r\n\r\n');

/** The message without every field of that name (and its folded lines), e.g. Bcc before sending. */
export function withoutHeader(raw: Buffer, name: string): Buffer {
  const end = raw.indexOf(CRLF_CRLF);
  const headerEnd = end === -1 ? raw.length : end + 2;
  const lines = raw.subarray(0, headerEnd).toString('latin1').split('\r\n');
  const kept: string[] = [];
  let dropping = false;
  const prefix = name.toLowerCase() + ':';
  for (const line of lines) {
    if (/^[ \t]/.test(line)) {
      if (!dropping) kept.push(line);
      continue;
    }
    dropping = line.toLowerCase().replace(/^([^:\s]+)\s*:/, '$1:').startsWith(prefix);
    if (!dropping) kept.push(line);
  }
  return Buffer.concat([Buffer.from(kept.join('\r\n'), 'latin1'), raw.subarray(headerEnd)]);
}
