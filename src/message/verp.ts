/**
 * VERP return paths: every delivery gets its own envelope sender, b+<deliveryId>.<tag>@<bounce
 * domain>, so a bounce arriving there names the delivery it is about even when the remote's
 * DSN is unparseable. The tag is an HMAC of the id: without it anybody could mail
 * b+<someone else's id>@ and have that recipient suppressed.
 *
 * Remote MTAs are allowed to fold the case of a local part (and some do), so the tag is
 * base32 (case-free), the HMAC covers the lower-cased id, and decoding compares without case.
 * An id that is itself case-sensitive would come back folded: use lower-case-safe ids (UUIDs,
 * lower-cased ULIDs) — decodeReturnPath returns the id exactly as the address spelled it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const PREFIX = 'b+';
const TAG_LENGTH = 8; // 8 base32 characters = 40 bits: forging one means mailing ~2^39 guesses
const ID_PATTERN = /^[A-Za-z0-9_-]{1,100}$/; // no '.', which separates id and tag
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function tagOf(deliveryId: string, secret: string): string {
  const digest = createHmac('sha256', secret).update(`verp:${deliveryId.toLowerCase()}`).digest();
  // 5 bytes = 40 bits = exactly 8 base32 characters.
  let bits = 0n;
  for (const byte of digest.subarray(0, 5)) bits = (bits << 8n) | BigInt(byte);
  let tag = '';
  for (let i = TAG_LENGTH - 1; i >= 0; i--) tag += BASE32[Number((bits >> BigInt(i * 5)) & 31n)];
  return tag;
}

export function encodeReturnPath(deliveryId: string, returnPathDomain: string, secret: string): string {
  if (!ID_PATTERN.test(deliveryId)) throw new RangeError(`delivery id ${JSON.stringify(deliveryId)} cannot go into a return path (letters, digits, _ and - only)`);
  if (!secret) throw new RangeError('VERP secret must not be empty');
  return `${PREFIX}${deliveryId}.${tagOf(deliveryId, secret)}@${returnPathDomain}`;
}

/** The delivery id a VERP address stands for, or null when it is not one of ours (or forged). */
export function decodeReturnPath(address: string, secret: string): string | null {
  const bare = address.trim().replace(/^<(.*)>$/, '$1');
  const local = bare.slice(0, Math.max(bare.lastIndexOf('@'), 0));
  if (!secret || local.slice(0, PREFIX.length).toLowerCase() !== PREFIX) return null;
  const dot = local.lastIndexOf('.');
  const deliveryId = local.slice(PREFIX.length, dot);
  const tag = local.slice(dot + 1).toLowerCase();
  if (dot < 0 || !ID_PATTERN.test(deliveryId) || !/^[a-z2-7]{8}$/.test(tag)) return null;
  return timingSafeEqual(Buffer.from(tagOf(deliveryId, secret)), Buffer.from(tag)) ? deliveryId : null;
}
