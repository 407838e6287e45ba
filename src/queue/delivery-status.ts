/**
 * The status of a delivery (one recipient of one message). The queue owns it: every value it can
 * take, the ones a worker may claim, and the changes allowed between them, as data. Every change
 * goes through status-change.ts, which refuses one that is not listed here: that is a bug in the
 * caller, not a state of the world.
 */

export const DELIVERY_STATUSES = ['queued', 'deferred', 'delivered', 'bounced', 'complained', 'suppressed', 'expired', 'sandboxed', 'scheduled', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** Waiting for an attempt: what a worker claims, leases and holds back. */
export const PENDING_STATUSES = ['queued', 'deferred'] as const satisfies readonly DeliveryStatus[];
export type PendingStatus = (typeof PENDING_STATUSES)[number];

/** PENDING_STATUSES as an SQL list, `('queued', 'deferred')`, for statements written as text. */
export const PENDING_SQL_LIST = `(${PENDING_STATUSES.map((status) => `'${status}'`).join(', ')})`;

/** What acceptance writes (queue/enqueue.ts): to be tried, never tried (sandbox, suppressed), or tried later. */
export const INITIAL_STATUSES = ['queued', 'sandboxed', 'suppressed', 'scheduled'] as const satisfies readonly DeliveryStatus[];

/**
 * A report that comes back from the recipient's side (a DSN, a complaint; events/feedback.ts)
 * is the last word on the delivery whatever we thought of it: mail we delivered may bounce later.
 */
const REPORTED: readonly DeliveryStatus[] = ['bounced', 'complained'];

/** The statuses a delivery may move to from each status. */
export const TRANSITIONS: Readonly<Record<DeliveryStatus, readonly DeliveryStatus[]>> = {
  // An attempt's outcome (queue/record-outcomes.ts); expired: deferred past MAILROOM_MAX_QUEUE_TIME.
  queued: ['delivered', 'deferred', 'bounced', 'expired', 'complained'],
  deferred: ['delivered', 'deferred', 'bounced', 'expired', 'complained'],
  // Released at its send time, or cancelled before it (queue/schedule.ts).
  scheduled: ['queued', 'cancelled', ...REPORTED],
  delivered: REPORTED,
  bounced: REPORTED,
  complained: REPORTED,
  expired: REPORTED,
  suppressed: REPORTED,
  sandboxed: REPORTED,
  cancelled: REPORTED,
};

export function isPending(status: DeliveryStatus): status is PendingStatus {
  return (PENDING_STATUSES as readonly DeliveryStatus[]).includes(status);
}

/** Throws unless every status in `from` may move to `to`. */
export function checkTransition(from: readonly DeliveryStatus[], to: DeliveryStatus): void {
  for (const status of from) {
    if (!TRANSITIONS[status].includes(to)) throw new Error(`a delivery may not go from ${status} to ${to} (queue/delivery-status.ts)`);
  }
}

/** Every status from which a delivery may move to `to`. */
export function statusesBefore(to: DeliveryStatus): DeliveryStatus[] {
  return DELIVERY_STATUSES.filter((status) => TRANSITIONS[status].includes(to));
}
