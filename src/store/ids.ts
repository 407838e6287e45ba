import { randomFillSync } from 'node:crypto';

// Random bytes are drawn in bulk: one system call per 512 ids instead of one
// per id, which showed up in the acceptance benchmark's profile.
const pool = Buffer.alloc(4096);
let offset = pool.length;

function random64(): bigint {
  if (offset + 8 > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const value = pool.readBigUInt64BE(offset);
  offset += 8;
  return value;
}

/**
 * Time-ordered ids (like ULIDs, in lower-case base 36) so queue ids sort by
 * arrival and stay short enough to read out over the phone.
 */
export function newId(): string {
  const time = Date.now().toString(36).padStart(9, '0');
  const random = random64().toString(36).padStart(13, '0').slice(0, 11);
  return time + random;
}

/** The smallest id made at `at`: every id made before it sorts lower. */
export function firstIdAt(at: number): string {
  return Math.max(0, Math.floor(at)).toString(36).padStart(9, '0');
}

/** When an id from newId() was made; null for a string that is not one. */
export function timeOfId(id: string): number | null {
  const time = parseInt(id.slice(0, 9), 36);
  return /^[0-9a-z]{9}/.test(id) && Number.isSafeInteger(time) ? time : null;
}
