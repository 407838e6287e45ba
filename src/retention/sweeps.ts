/**
 * One batch of each retention sweep, run in a transaction it is given (on
 * SQLite, the queue writer thread's: see retention-writes.ts). Each
 * batch walks at most `limit` messages in id order (ids are time-ordered)
 * from `after`, so a batch costs the same however large the tables are, and
 * the caller carries the cursor from batch to batch.
 *
 * A message qualifies only when every recipient reached a final state and the
 * last of them did so before the cut-off: a queued or deferred delivery keeps
 * its message whole, however old it is.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { firstIdAt } from '../store/ids.ts';
import { minuteOf } from '../queue/usage.ts';
import { LIMIT_WINDOW_MS } from '../policy/limits.ts';
import { addStoredBytes } from '../queue/stored-bytes.ts';
import { deleteCaughtRows } from '../events/caught-mail.ts';
import { PENDING_SQL_LIST } from '../queue/delivery-status.ts';

export interface SweepBatch {
  now: number;
  /** Messages whose last recipient became final before this instant qualify. */
  cutoff: number;
  /** The last message id the previous batch looked at; null to start from the oldest. */
  after: string | null;
  limit: number;
}

export interface SweepOutcome {
  /** How many messages this batch looked at; fewer than `limit` means the sweep reached its end. */
  examined: number;
  /** How many it emptied or deleted. */
  affected: number;
  /** Body bytes given back, per account (already taken off the storage budget's counter). */
  freed: Array<{ accountId: string; bytes: number }>;
  /** Pass as `after` to the next batch. */
  last: string | null;
}

/** How much of a body is read to keep its header section: more than any sane header block. */
const HEADER_READ_LIMIT = 64 * 1024;

/** Empties the bodies of finished messages, keeping the header section so the log still shows it. */
export async function expireBodies(tx: Kysely<Database>, batch: SweepBatch): Promise<SweepOutcome> {
  let query = tx.selectFrom('messages').select(['id', 'account_id', 'size', 'created_at'])
    .where('body_expired_at', 'is', null).where('id', '<', firstIdAt(batch.cutoff))
    .orderBy('id').limit(batch.limit);
  if (batch.after !== null) query = query.where('id', '>', batch.after);
  const rows = await query.execute();
  const finished = await finishedBefore(tx, rows, batch.cutoff);
  const freed = new Map<string, number>();
  for (const row of rows.filter((r) => finished.has(r.id))) {
    const { head } = await tx.selectFrom('messages')
      .select(sql<Uint8Array>`substr(raw, 1, ${sql.lit(HEADER_READ_LIMIT)})`.as('head'))
      .where('id', '=', row.id).executeTakeFirstOrThrow();
    const kept = headerSection(Buffer.from(head));
    await tx.updateTable('messages').set({ raw: kept, body_expired_at: batch.now }).where('id', '=', row.id).execute();
    if (row.account_id !== null) freed.set(row.account_id, (freed.get(row.account_id) ?? 0) + Number(row.size));
  }
  return settle(tx, rows, finished.size, freed);
}

/** Deletes finished messages with their deliveries, attempts and events. */
export async function deleteHistory(tx: Kysely<Database>, batch: SweepBatch): Promise<SweepOutcome> {
  let query = tx.selectFrom('messages').select(['id', 'account_id', 'size', 'created_at', 'body_expired_at'])
    .where('id', '<', firstIdAt(batch.cutoff)).orderBy('id').limit(batch.limit);
  if (batch.after !== null) query = query.where('id', '>', batch.after);
  const rows = await query.execute();
  const finished = await finishedBefore(tx, rows, batch.cutoff);
  const ids = [...finished];
  const freed = new Map<string, number>();
  if (ids.length > 0) {
    await tx.deleteFrom('attempts').where('delivery_id', 'in', tx.selectFrom('deliveries').select('id').where('message_id', 'in', ids)).execute();
    await tx.deleteFrom('message_events').where('message_id', 'in', ids).execute();
    await tx.deleteFrom('deliveries').where('message_id', 'in', ids).execute();
    await tx.deleteFrom('messages').where('id', 'in', ids).execute();
    for (const row of rows) {
      // A body the body sweep had not emptied yet (history kept shorter than bodies) goes now.
      if (finished.has(row.id) && row.body_expired_at === null && row.account_id !== null) {
        freed.set(row.account_id, (freed.get(row.account_id) ?? 0) + Number(row.size));
      }
    }
  }
  return settle(tx, rows, ids.length, freed);
}

/** Mail caught for "receive here" addresses whose time is up (expires_at was set on arrival from MAILROOM_CAUGHT_MAIL_RETENTION); answers how many went. */
export async function deleteExpiredCaughtMail(tx: Kysely<Database>, { now, limit }: { now: number; limit: number }): Promise<number> {
  const due = await tx.selectFrom('caught_messages').select(['id', 'account_id', 'recipient', 'received_at']).where('expires_at', '<=', now).orderBy('expires_at').limit(limit).execute();
  // Selected first: neither SQLite nor PostgreSQL takes LIMIT on DELETE portably.
  // Its mail_caught event holds the code and link too: it goes with the message.
  return deleteCaughtRows(tx, due);
}

/** Per-minute sending counters that left the rolling 24-hour window (one statement: the table holds at most a day of minutes per account). */
export async function pruneUsageRows(tx: Kysely<Database>, { now }: { now: number }): Promise<number> {
  const result = await tx.deleteFrom('usage').where('minute', '<=', minuteOf(now - LIMIT_WINDOW_MS)).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** The messages among `rows` all of whose recipients are final, the last one before `cutoff`. */
async function finishedBefore(tx: Kysely<Database>, rows: ReadonlyArray<{ id: string; created_at: number }>, cutoff: number): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const states = await tx.selectFrom('deliveries')
    .select([
      'message_id',
      sql<number>`max(updated_at)`.as('last_change'),
      sql<number>`sum(case when status in ${sql.raw(PENDING_SQL_LIST)} then 1 else 0 end)`.as('open'),
    ])
    .where('message_id', 'in', rows.map((r) => r.id)).groupBy('message_id').execute();
  const byMessage = new Map(states.map((s) => [s.message_id, s]));
  const finished = new Set<string>();
  for (const row of rows) {
    const state = byMessage.get(row.id);
    // A message without deliveries (every recipient refused at acceptance) was final when it arrived.
    const lastChange = state ? Number(state.last_change) : Number(row.created_at);
    if ((state === undefined || Number(state.open) === 0) && lastChange < cutoff && Number(row.created_at) < cutoff) finished.add(row.id);
  }
  return finished;
}

async function settle(tx: Kysely<Database>, rows: ReadonlyArray<{ id: string }>, affected: number, freed: Map<string, number>): Promise<SweepOutcome> {
  await addStoredBytes(tx, new Map([...freed].map(([accountId, bytes]) => [accountId, -bytes])));
  return {
    examined: rows.length, affected, last: rows.at(-1)?.id ?? null,
    freed: [...freed].map(([accountId, bytes]) => ({ accountId, bytes })),
  };
}

/** The header section of a message with the blank line that ends it; empty when none is found. */
export function headerSection(head: Buffer): Buffer {
  const crlf = head.indexOf('\r\n\r\n');
  if (crlf >= 0) return Buffer.from(head.subarray(0, crlf + 4));
  const lf = head.indexOf('\n\n');
  return lf >= 0 ? Buffer.from(head.subarray(0, lf + 2)) : Buffer.alloc(0);
}
