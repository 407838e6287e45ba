import { randomBytes } from 'node:crypto';

/**
 * Time-ordered ids (like ULIDs, in lower-case base 36) so queue ids sort by
 * arrival and stay short enough to read out over the phone.
 */
export function newId(): string {
  const time = Date.now().toString(36).padStart(9, '0');
  const random = BigInt('0x' + randomBytes(8).toString('hex')).toString(36).padStart(13, '0').slice(0, 11);
  return time + random;
}
