/** When to try a deferred delivery again. */

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

/** Whether a delivery that failed now should give up instead of trying again at `nextAttemptAt`. */
export function hasExpired(queuedAt: number, nextAttemptAt: number, maxQueueTime: number): boolean {
  return nextAttemptAt - queuedAt > maxQueueTime;
}
