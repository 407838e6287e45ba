/**
 * The mail outbox: the `deliveries` table as a leased outbox (leased-outbox.ts). A worker claims
 * due deliveries with a lease and keeps it alive while attempts run (delivery/worker.ts); an
 * attempt's outcome settles them (record-outcomes.ts), and a site that asks for less gives them
 * back for later (hold-back.ts).
 */
import { sql, type Kysely } from 'kysely';
import type { Engine } from '../store/database.ts';
import type { Database } from '../store/schema.ts';
import { PENDING_STATUSES, type DeliveryStatus } from './delivery-status.ts';
import { changeStatus, type StatusChangeColumns } from './status-change.ts';
import { LeasedOutbox, type ClaimRequest } from './leased-outbox.ts';

export type { ClaimRequest } from './leased-outbox.ts';

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

export const MAIL_OUTBOX = new LeasedOutbox<DeliveryStatus>({
  table: 'deliveries',
  pending: PENDING_STATUSES,
  changeStatus: (db, from, to, columns) => changeStatus(db, from, to, columns as StatusChangeColumns),
  claimed: sql`id, message_id, account_id, recipient, recipient_domain, attempt_count, created_at,
        (select size from messages where messages.id = deliveries.message_id) as size`,
});

/** Runs in the caller's transaction (the queue writer's). */
export async function claimDueDeliveries(tx: Kysely<Database>, engine: Engine, request: ClaimRequest): Promise<ClaimedDelivery[]> {
  const rows = await MAIL_OUTBOX.claim<ClaimedDelivery>(tx, engine, request);
  return rows.map((row) => ({ ...row, attempt_count: Number(row.attempt_count), created_at: Number(row.created_at), size: Number(row.size ?? 0) }));
}
