/**
 * Scheduled sends. A message with `sendAt` is committed at once like any
 * other (durable, counted, its id answered) but its recipients wait as
 * `scheduled`, a status no worker claims, with `next_attempt_at` = sendAt.
 * Every delivery node releases the due ones to `queued` once a second; one
 * UPDATE does it, so several nodes releasing at once cannot deliver twice,
 * and if one node is down another releases them. Cancelling is the opposite
 * UPDATE, `scheduled` → `cancelled`: whichever of the two commits first wins,
 * so a message is either cancelled or sent, never both.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { recordEvents } from './message-events.ts';
import type { QueueWriter } from './writer.ts';
import { changeStatus } from './status-change.ts';

/** Moves every scheduled delivery that is due to `queued`; returns how many. */
export async function releaseDueScheduled(tx: Kysely<Database>, now: number): Promise<number> {
  const result = await changeStatus(tx, ['scheduled'], 'queued', { updated_at: now })
    .where('next_attempt_at', '<=', now).executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export interface CancelRequest {
  messageId: string;
  accountId: string;
  now: number;
}

/** Cancels the message's recipients that are still scheduled; returns the addresses cancelled (none: too late, or never scheduled). */
export async function cancelScheduled(tx: Kysely<Database>, { messageId, accountId, now }: CancelRequest): Promise<string[]> {
  const reply = `cancelled before its send time, at ${new Date(now).toISOString()}`;
  const rows = await changeStatus(tx, ['scheduled'], 'cancelled', { last_reply: reply, updated_at: now })
    .where('message_id', '=', messageId).where('account_id', '=', accountId)
    .returning(['id', 'recipient']).execute();
  await recordEvents(tx, rows.map((row) => ({
    accountId, messageId, deliveryId: row.id, recipient: row.recipient, type: 'cancelled' as const, reply, at: now,
  })));
  return rows.map((row) => row.recipient);
}

/** Releases due scheduled mail every `intervalMs` until stopped; `onReleased` wakes this node's worker. */
export function startScheduledReleaser(writer: QueueWriter, options: { intervalMs?: number; onReleased?: () => void; onError?: (error: unknown) => void } = {}): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = writer.run('releaseScheduled', { now: Date.now() })
      .then((released) => { if (released > 0) options.onReleased?.(); })
      .catch((error) => options.onError?.(error));
  };
  const timer = setInterval(tick, options.intervalMs ?? 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
