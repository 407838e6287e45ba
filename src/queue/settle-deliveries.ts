/**
 * Writing the new state of many attempted deliveries at once, each only while
 * the recorder still holds its lease: answers the ids it wrote.
 *
 * PostgreSQL: one UPDATE … FROM unnest(arrays) for the whole group commit, one
 * round trip whatever the count, with the same SQL text every time. SQLite
 * (in-process, no round trips): one UPDATE per delivery, through the mail outbox's settle.
 * Both check each new status against delivery-status.ts's transitions first, like every
 * other status change (status-change.ts).
 */
import { sql, type Kysely } from 'kysely';
import type { Engine } from '../store/database.ts';
import type { Database } from '../store/schema.ts';
import { checkTransition, PENDING_STATUSES, type DeliveryStatus } from './delivery-status.ts';
import { MAIL_OUTBOX } from './claim-deliveries.ts';

export interface DeliverySettlement {
  id: string;
  /** The lease owner that must still hold it. */
  owner: string;
  status: DeliveryStatus;
  attemptCount: number;
  nextAttemptAt: number;
  reply: string;
  now: number;
}

export async function settleDeliveries(tx: Kysely<Database>, engine: Engine, rows: readonly DeliverySettlement[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  if (engine === 'postgres') {
    // One statement for all: each new status is checked here, as MAIL_OUTBOX.settle checks it on SQLite.
    for (const row of rows) checkTransition(PENDING_STATUSES, row.status);
    // Sorted: two nodes' recorders then lock rows in the same order.
    const sorted = [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const column = <T>(pick: (row: DeliverySettlement) => T) => sorted.map(pick);
    const { rows: written } = await sql<{ id: string }>`
      update deliveries set status = v.status, attempt_count = v.attempt_count, next_attempt_at = v.next_attempt_at,
        lease_owner = null, last_reply = v.reply, updated_at = v.now
      from unnest(${column((r) => r.id)}::text[], ${column((r) => r.owner)}::text[], ${column((r) => r.status)}::text[],
        ${column((r) => r.attemptCount)}::int[], ${column((r) => r.nextAttemptAt)}::int8[], ${column((r) => r.reply)}::text[],
        ${column((r) => r.now)}::int8[]) as v(id, owner, status, attempt_count, next_attempt_at, reply, now)
      where deliveries.id = v.id and deliveries.lease_owner = v.owner and deliveries.status in (${sql.join([...PENDING_STATUSES])})
      returning deliveries.id`.execute(tx);
    return new Set(written.map((row) => row.id));
  }
  const written = new Set<string>();
  for (const row of rows) {
    const settled = await MAIL_OUTBOX.settle(tx, {
      id: row.id, owner: row.owner, status: row.status,
      columns: { attempt_count: row.attemptCount, next_attempt_at: row.nextAttemptAt, last_reply: row.reply, updated_at: row.now },
    });
    if (settled) written.add(row.id);
  }
  return written;
}
