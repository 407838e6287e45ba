/**
 * Reading and amending the header block of a submitted message without
 * parsing its body: the message is stored byte for byte as the client sent
 * it, with only trace and missing mandatory headers put in front.
 */
import { addressParser, decodeWords } from 'postal-mime';

export interface HeaderField {
  /** Lower-case name. */
  name: string;
  /** Unfolded value. */
  value: string;
}

const CRLF_CRLF = Buffer.from('\r\n\r\n');

/** The header fields of a CRLF message (the block ends at the first empty line). */
export function readHeaders(raw: Buffer): HeaderField[] {
  const end = raw.indexOf(CRLF_CRLF);
  const block = raw.subarray(0, end === -1 ? raw.length : end).toString('utf8');
  const fields: HeaderField[] = [];
  for (const line of block.split('\r\n')) {
    if (/^[ \t]/.test(line) && fields.length > 0) {
      fields[fields.length - 1].value += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields.push({ name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim() });
  }
  return fields;
}

export function headerValue(fields: readonly HeaderField[], name: string): string | null {
  return fields.find((field) => field.name === name)?.value ?? null;
}

/** The first address of the From header, or null when there is none or it is unreadable. */
export function headerFromAddress(fields: readonly HeaderField[]): string | null {
  return headerFromAddresses(fields)?.[0] ?? null;
}

/**
 * Every author in the From header. null when there is no From field, more
 * than one (RFC 5322 allows one; a second is how a forged author hides behind
 * a genuine one), or an entry without an address.
 */
export function headerFromAddresses(fields: readonly HeaderField[]): string[] | null {
  const from = fields.filter((field) => field.name === 'from');
  if (from.length !== 1 || !from[0].value) return null;
  const entries = addressParser(from[0].value).flatMap((entry) => ('group' in entry && entry.group ? entry.group : [entry])) as Array<{ address?: string }>;
  const addresses = entries.map((entry) => entry.address?.trim() ?? '');
  return addresses.length > 0 && addresses.every((address) => address.includes('@')) ? addresses : null;
}

export function decodedSubject(fields: readonly HeaderField[]): string {
  const value = headerValue(fields, 'subject');
  return value ? decodeWords(value).slice(0, 998) : '';
}

/** RFC 5322 date, as mail clients write it. */
export function rfc5322Date(at: number): string {
  return new Date(at).toUTCString().replace('GMT', '+0000');
}

/** Puts header lines in front of the message (each without CRLF). */
export function prependHeaders(raw: Buffer, lines: readonly string[]): Buffer {
  if (lines.length === 0) return raw;
  return Buffer.concat([Buffer.from(lines.map((line) => line + '\r\n').join('')), raw]);
}
