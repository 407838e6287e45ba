/**
 * When to try again a row of an outbox (leased-outbox.ts) whose try failed, and when to give up:
 * a retry policy. Mail follows MAILROOM_RETRY_SCHEDULE until MAILROOM_MAX_QUEUE_TIME; webhooks
 * back off exponentially for three days (events/webhooks-send.ts).
 */

export interface RetryPolicy {
  /** The delay before the next try after `failures` failed tries; `random` (0..1) is the jitter. */
  delay(failures: number, random: () => number): number;
  /** A row that would next be tried later than this after it was queued is given up instead. */
  giveUpAfterMs: number;
}

export interface NextTry {
  nextAttemptAt: number;
  givesUp: boolean;
}

/** After the `failures`-th failed try of a row queued at `queuedAt`: when to try again, or whether to give up. */
export function nextTry(policy: RetryPolicy, failures: number, queuedAt: number, now: number, random: () => number = Math.random): NextTry {
  const nextAttemptAt = now + policy.delay(failures, random);
  return { nextAttemptAt, givesUp: hasExpired(queuedAt, nextAttemptAt, policy.giveUpAfterMs) };
}

/** Mail: MAILROOM_RETRY_SCHEDULE's steps, until MAILROOM_MAX_QUEUE_TIME. */
export function scheduleRetry(schedule: readonly number[], maxQueueTime: number): RetryPolicy {
  return { delay: (failures, random) => retryDelay(failures, schedule, random), giveUpAfterMs: maxQueueTime };
}

/**
 * The delay before the next attempt, after `failedAttempts` failures:
 * MAILROOM_RETRY_SCHEDULE's entries in turn, then its last one forever.
 * ±10% jitter, so mail deferred together (a busy MX, a restart) does not all
 * come back in the same instant and get deferred together again.
 */
export function retryDelay(failedAttempts: number, schedule: readonly number[], random: () => number = Math.random): number {
  const base = schedule[Math.min(Math.max(failedAttempts, 1), schedule.length) - 1];
  return Math.round(base * (0.9 + random() * 0.2));
}

export interface Backoff {
  /** Delay after the first failure; each further failure doubles it. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** A row still failing this long after it was queued is given up. */
  giveUpAfterMs: number;
}

/** Webhooks: exponential backoff. */
export function backoffRetry(backoff: Backoff): RetryPolicy {
  return { delay: (failures, random) => backoffDelay(failures, backoff, random), giveUpAfterMs: backoff.giveUpAfterMs };
}

/** Doubling from firstDelayMs up to maxDelayMs, with ±20% jitter so endpoints that come back are not hit by everyone at once. */
export function backoffDelay(failures: number, backoff: Backoff, random: () => number = Math.random): number {
  const base = Math.min(backoff.maxDelayMs, backoff.firstDelayMs * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** Whether a row that failed now should give up instead of trying again at `nextAttemptAt`. */
export function hasExpired(queuedAt: number, nextAttemptAt: number, maxQueueTime: number): boolean {
  return nextAttemptAt - queuedAt > maxQueueTime;
}
