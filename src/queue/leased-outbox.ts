/**
 * A leased outbox: a table of rows waiting to be sent somewhere (mail deliveries to MX hosts,
 * webhook requests to endpoints), each taken by one worker at a time under a lease, sent, and
 * settled. Mail and webhooks are the same machinery; this is it, once, parameterised by the
 * table (an OutboxSpec) and, when a try failed, a retry policy (retry.ts).
 *
 * The lease is `next_attempt_at` moved to its end with `lease_owner` set: a worker that dies
 * simply lets its rows fall due again when the lease runs out, so no reaper is needed. Only the
 * lease's owner may settle or give back a row, and only while it is still pending: if the lease
 * ran out and another worker took the row, that worker's record wins.
 *
 * PostgreSQL: several nodes claim at once; `FOR UPDATE SKIP LOCKED` gives each row to exactly
 * one of them without waiting. SQLite: claims run in the single writer's transactions (the queue
 * writer, or a BEGIN IMMEDIATE), so they are serialised by the write lock.
 *
 * Every function runs in the transaction (or on the connection) it is given.
 */
import { sql, type Kysely, type RawBuilder, type UpdateQueryBuilder, type UpdateResult } from 'kysely';
import type { Engine } from '../store/database.ts';
import type { Database } from '../store/schema.ts';

/** The tables that are outboxes. */
export type OutboxTable = 'deliveries' | 'webhook_deliveries';

/** What every outbox row has, seen alike whatever its table. */
interface LeasedRow {
  id: string;
  status: string;
  next_attempt_at: number;
  lease_owner: string | null;
}

type OutboxView = { [T in OutboxTable]: LeasedRow };
type StatusUpdate = UpdateQueryBuilder<OutboxView, OutboxTable, OutboxTable, UpdateResult>;

export interface OutboxSpec<S extends string> {
  table: OutboxTable;
  /** The statuses of rows waiting to be sent: what is claimed, leased, given back and settled. */
  pending: readonly S[];
  /**
   * The UPDATE that moves rows in `from` to `to`, setting `columns` too; it refuses (throws) a
   * change the table does not allow. Mail: queue/status-change.ts, the one way a delivery's
   * status changes.
   */
  changeStatus(db: Kysely<Database>, from: readonly S[], to: S, columns: Record<string, unknown>): unknown;
  /** The columns a claim answers, as SQL (may be computed, e.g. a sub-select). */
  claimed: RawBuilder<unknown>;
}

export interface ClaimRequest {
  owner: string;
  now: number;
  leaseMs: number;
  limit: number;
}

export interface Release {
  owner: string;
  /** The rows to give back; null gives back every row held under this owner (a restarted node's leftovers). */
  ids: readonly string[] | null;
  /** When they fall due again: now, or later (held back). */
  dueAt: number;
  /** Columns written with it (the reply that held them back, the time). */
  columns?: Record<string, unknown>;
}

export interface Settlement<S extends string> {
  id: string;
  owner: string;
  status: S;
  /** The row's other columns after this try (attempt count, next attempt time, last reply…); the lease ends. */
  columns: Record<string, unknown>;
}

export class LeasedOutbox<S extends string> {
  readonly spec: OutboxSpec<S>;
  readonly #pendingList: RawBuilder<unknown>;

  constructor(spec: OutboxSpec<S>) {
    this.spec = spec;
    this.#pendingList = sql.raw(`(${spec.pending.map((status) => `'${status}'`).join(', ')})`);
  }

  /** Takes up to `limit` due rows, oldest due first, leased to `owner` until `now + leaseMs`. */
  async claim<R>(tx: Kysely<Database>, engine: Engine, { owner, now, leaseMs, limit }: ClaimRequest): Promise<R[]> {
    const table = sql.table(this.spec.table);
    const lockClause = engine === 'postgres' ? sql`for update skip locked` : sql``;
    const result = await sql<R>`
      update ${table} set lease_owner = ${owner}, next_attempt_at = ${now + leaseMs}
      where id in (
        select id from ${table}
        where status in ${this.#pendingList} and next_attempt_at <= ${now}
        order by next_attempt_at
        limit ${limit}
        ${lockClause}
      )
      returning ${this.spec.claimed}`.execute(tx);
    return result.rows;
  }

  /**
   * Pushes the lease end of rows this owner still holds. On PostgreSQL it skips rows locked
   * right now: those are being settled by this node's own transaction, which ends the lease
   * anyway. Waiting for them instead would make the heartbeat and the settling lock the same
   * rows in different orders: a deadlock, whose victim (often the settling) turns mail that was
   * delivered into mail sent again once the lease runs out.
   */
  async extend(tx: Kysely<Database>, engine: Engine, owner: string, ids: readonly string[], until: number): Promise<void> {
    if (ids.length === 0) return;
    const db = view(tx);
    const held = db.selectFrom(this.spec.table).select('id')
      .where('id', 'in', [...ids]).where('lease_owner', '=', owner).where('status', 'in', this.spec.pending);
    await db.updateTable(this.spec.table).set({ next_attempt_at: until })
      .where('id', 'in', engine === 'postgres' ? held.forUpdate().skipLocked() : held)
      .execute();
  }

  /** Gives rows back without a try (stopping, restarting, held back); returns how many were still this owner's. */
  async release(tx: Kysely<Database>, { owner, ids, dueAt, columns }: Release): Promise<number> {
    if (ids?.length === 0) return 0;
    let query = view(tx).updateTable(this.spec.table).set({ ...columns, next_attempt_at: dueAt, lease_owner: null })
      .where('lease_owner', '=', owner).where('status', 'in', this.spec.pending);
    if (ids) query = query.where('id', 'in', [...ids]);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Writes what a try did, if this owner still holds the row; answers whether it did. */
  async settle(tx: Kysely<Database>, { id, owner, status, columns }: Settlement<S>): Promise<boolean> {
    const update = this.spec.changeStatus(tx, this.spec.pending, status, { ...columns, lease_owner: null }) as StatusUpdate;
    const result = await update.where('id', '=', id).where('lease_owner', '=', owner).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}

/** Every outbox table seen through the columns they share. */
function view(tx: Kysely<Database>): Kysely<OutboxView> {
  return tx as unknown as Kysely<OutboxView>;
}
