/**
 * Taking due deliveries with a lease, and keeping it. Leasing moves
 * `next_attempt_at` to the lease's end, so a worker that dies simply lets its
 * deliveries fall due again when the lease runs out: no separate reaper is
 * needed.
 *
 * PostgreSQL: several nodes claim at once; `FOR UPDATE SKIP LOCKED` makes each
 * row go to exactly one of them without waiting. SQLite: the claim runs in a
 * BEGIN IMMEDIATE transaction, so claims are serialised by the write lock.
 */
import { sql, type Kysely } from 'kysely';
import type { Engine } from '../store/database.ts';
import type { Database } from '../store/schema.ts';
import { PENDING_SQL_LIST, PENDING_STATUSES } from './delivery-status.ts';

export interface ClaimedDelivery {
  id: string;
  message_id: string;
  account_id: string | null;
  recipient: string;
  recipient_domain: string;
  attempt_count: number;
  created_at: number;
  /** The message's size in bytes: what an attempt will hold in memory. */
  size: number;
}

export interface ClaimRequest {
  owner: string;
  now: number;
  leaseMs: number;
  limit: number;
}

const PENDING_IN = sql.raw(PENDING_SQL_LIST);

/** Runs in the caller's transaction (the queue writer's). */
export async function claimDueDeliveries(tx: Kysely<Database>, engine: Engine, { owner, now, leaseMs, limit }: ClaimRequest): Promise<ClaimedDelivery[]> {
  const lockClause = engine === 'postgres' ? sql`for update skip locked` : sql``;
  const result = await sql<ClaimedDelivery>`
      update deliveries set lease_owner = ${owner}, next_attempt_at = ${now + leaseMs}
      where id in (
        select id from deliveries
        where status in ${PENDING_IN} and next_attempt_at <= ${now}
        order by next_attempt_at
        limit ${limit}
        ${lockClause}
      )
      returning id, message_id, account_id, recipient, recipient_domain, attempt_count, created_at,
        (select size from messages where messages.id = deliveries.message_id) as size`.execute(tx);
  return result.rows.map((row) => ({ ...row, attempt_count: Number(row.attempt_count), created_at: Number(row.created_at), size: Number(row.size ?? 0) }));
}

/**
 * Pushes the lease end of deliveries this owner still holds. On PostgreSQL it
 * skips rows locked right now: those are being recorded by this node's own
 * outcome transaction, which ends the lease anyway. Waiting for them instead
 * would make the heartbeat and the recorder lock the same rows in different
 * orders: a deadlock, whose victim (often the recorder) turns delivered mail
 * into mail sent again once the lease runs out.
 */
export async function extendDeliveryLeases(tx: Kysely<Database>, engine: Engine, owner: string, ids: readonly string[], until: number): Promise<void> {
  if (ids.length === 0) return;
  const held = tx.selectFrom('deliveries').select('id')
    .where('id', 'in', [...ids]).where('lease_owner', '=', owner).where('status', 'in', PENDING_STATUSES);
  await tx.updateTable('deliveries').set({ next_attempt_at: until })
    .where('id', 'in', engine === 'postgres' ? held.forUpdate().skipLocked() : held)
    .execute();
}
