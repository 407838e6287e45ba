/** The rolling 24-hour sending limit: one recipient is one email. */
import { ACCEPT, refuse, type ScopeHolder, type Verdict } from './refusal.ts';

export interface UsageFact {
  used: number;
  /** When the oldest email still counted leaves the window (null when none is counted). */
  nextRelease: number | null;
}

export const LIMIT_WINDOW_MS = 24 * 60 * 60 * 1000;

export function checkDailyLimit(usage: UsageFact, wanting: number, limit: number, now: number): Verdict {
  if (usage.used + wanting <= limit) return ACCEPT;
  return refuse({ kind: 'daily-limit', limit, resetsAt: usage.nextRelease ?? now + LIMIT_WINDOW_MS });
}

/** A key's (or device's) own limit, within its account's: the same rolling window, its own count. */
export function checkKeyDailyLimit(usage: UsageFact, wanting: number, limit: number, now: number, holder: ScopeHolder = 'key'): Verdict {
  if (usage.used + wanting <= limit) return ACCEPT;
  return refuse({ kind: 'key-daily-limit', holder, limit, resetsAt: usage.nextRelease ?? now + LIMIT_WINDOW_MS });
}
