/**
 * `sendAt` of POST /api/v1/messages (and of a batch): when given, the
 * message is committed now and released for delivery at that time
 * (queue/schedule.ts). It must lie ahead, and at most
 * MAILROOM_MAX_SCHEDULE_AHEAD ahead: a queue is not a calendar, and keys,
 * domains and suppressions may change a lot in between.
 */
import { ApiError } from './errors.ts';

/** The send time in epoch milliseconds, or null to send now; a bad value is a 400 naming `sendAt`. */
export function scheduledTime(sendAt: string | undefined, now: number, maxAheadMs: number, field = 'sendAt'): number | null {
  if (sendAt === undefined) return null;
  const at = Date.parse(sendAt);
  if (!/^\d{4}-\d\d-\d\dT/.test(sendAt) || Number.isNaN(at)) {
    throw new ApiError(400, 'invalid_send_at', `${field} must be a date and time such as 2030-01-31T09:00:00Z`, field);
  }
  if (at <= now) throw new ApiError(400, 'send_at_in_past', `${field} (${sendAt}) is not in the future; leave it out to send now`, field);
  if (at > now + maxAheadMs) {
    throw new ApiError(400, 'send_at_too_far', `${field} may be at most ${Math.round(maxAheadMs / 3_600_000)} hours ahead (until ${new Date(now + maxAheadMs).toISOString()})`, field);
  }
  return at;
}
