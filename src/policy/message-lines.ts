/**
 * What RFC 5322 (2.1.1, 2.3) forbids in a message whatever its policy: a NUL
 * byte anywhere, and a line over 998 octets (CRLF not counted). Such a
 * message is refused, never relayed: receivers may truncate, split or reject
 * it, and a split line changes what the recipient reads after we signed it.
 *
 * A long body line is refused as well rather than re-encoded as
 * quoted-printable (the README argues the choice): re-encoding rewrites a
 * part the client may have signed itself (S/MIME, PGP/MIME), must find the
 * right part of any MIME tree, and hides a client bug that every other
 * server would also trip over. Mail clients and libraries already encode
 * long lines; a message with one is broken at its source.
 */
import { ACCEPT, refuse, type Verdict } from './refusal.ts';

/** RFC 5322 2.1.1: at most 998 characters on a line, excluding the CRLF. */
export const MAX_LINE_OCTETS = 998;

const LF = 0x0a;
const CR = 0x0d;

export function checkMessageLines(raw: Buffer): Verdict {
  const nul = raw.indexOf(0);
  if (nul !== -1) return refuse({ kind: 'forbidden-input', problem: 'nul-byte', line: lineNumberAt(raw, nul), length: 0 });
  let inHeader = true;
  let line = 1;
  for (let start = 0; start < raw.length; line++) {
    const lf = raw.indexOf(LF, start);
    const end = lf === -1 ? raw.length : lf;
    const length = end - start - (end > start && raw[end - 1] === CR ? 1 : 0);
    if (inHeader && length === 0) inHeader = false;
    else if (length > MAX_LINE_OCTETS) {
      return refuse({ kind: 'forbidden-input', problem: inHeader ? 'header-line-too-long' : 'body-line-too-long', line, length });
    }
    if (lf === -1) break;
    start = lf + 1;
  }
  return ACCEPT;
}

function lineNumberAt(raw: Buffer, offset: number): number {
  let line = 1;
  for (let at = raw.indexOf(LF); at !== -1 && at < offset; at = raw.indexOf(LF, at + 1)) line++;
  return line;
}
