/**
 * The one way a delivery's status changes: an UPDATE of the deliveries that are in one of the
 * `from` statuses, to `to`, checked against delivery-status.ts's transitions before it is built.
 * The caller narrows it (which deliveries, whose lease) and runs it in its own transaction.
 */
import type { Kysely, Updateable } from 'kysely';
import type { Database, DeliveriesTable } from '../store/schema.ts';
import { checkTransition, type DeliveryStatus } from './delivery-status.ts';

export type StatusChangeColumns = Omit<Updateable<DeliveriesTable>, 'status' | 'id' | 'message_id'>;

export function changeStatus(db: Kysely<Database>, from: readonly DeliveryStatus[], to: DeliveryStatus, set: StatusChangeColumns) {
  checkTransition(from, to);
  return db.updateTable('deliveries').set({ ...set, status: to }).where('status', 'in', from);
}
