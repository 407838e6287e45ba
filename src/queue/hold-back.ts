/**
 * Giving deliveries back to the queue because their site asked for less (shaping.ts):
 * they come due again at `until`, with neither an attempt row nor a step of the retry schedule
 * — being held back is not an attempt (the product contract). The remote reply that turned
 * them away, when there was one, is kept as the delivery's last reply, so the message log says
 * why they wait.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { MAIL_OUTBOX } from './claim-deliveries.ts';

export interface HoldBack {
  owner: string;
  ids: readonly string[];
  until: number;
  now: number;
  reply: string | null;
}

/** One statement; only deliveries this owner still holds are touched. Returns how many were held. */
export async function holdBack(db: Kysely<Database>, { owner, ids, until, now, reply }: HoldBack): Promise<number> {
  if (ids.length === 0) return 0;
  return MAIL_OUTBOX.release(db, { owner, ids, dueAt: until, columns: { updated_at: now, ...(reply === null ? {} : { last_reply: reply }) } });
}
