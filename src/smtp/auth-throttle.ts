/**
 * Counts failed logins per client IP and per account email, so password
 * guessing is slowed to a crawl: after `maxFailures` within `windowMs` the
 * key is locked until the window passes. Kept in memory: each SMTP node
 * throttles the clients it sees.
 */
export interface AuthThrottleOptions {
  maxFailures: number;
  windowMs: number;
  now?: () => number;
}

interface Entry {
  failures: number[];
  lockedUntil: number;
}

export class AuthThrottle {
  readonly #entries = new Map<string, Entry>();
  readonly #options: AuthThrottleOptions;
  readonly #now: () => number;

  constructor(options: AuthThrottleOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** When any of the keys is locked, the time its lock ends; else null. */
  lockedUntil(keys: readonly string[]): number | null {
    const now = this.#now();
    let until: number | null = null;
    for (const key of keys) {
      const entry = this.#entries.get(key);
      if (entry && entry.lockedUntil > now) until = Math.max(until ?? 0, entry.lockedUntil);
    }
    return until;
  }

  /** Records a failure against every key; returns the lock end if this failure locked one. */
  recordFailure(keys: readonly string[]): number | null {
    const now = this.#now();
    let locked: number | null = null;
    for (const key of keys) {
      const entry = this.#entries.get(key) ?? { failures: [], lockedUntil: 0 };
      entry.failures = entry.failures.filter((at) => at > now - this.#options.windowMs);
      entry.failures.push(now);
      if (entry.failures.length >= this.#options.maxFailures) {
        entry.lockedUntil = now + this.#options.windowMs;
        entry.failures = [];
        locked = Math.max(locked ?? 0, entry.lockedUntil);
      }
      this.#entries.set(key, entry);
    }
    this.#forgetStale(now);
    return locked;
  }

  #forgetStale(now: number): void {
    if (this.#entries.size < 10_000) return;
    for (const [key, entry] of this.#entries) {
      if (entry.lockedUntil <= now && entry.failures.every((at) => at <= now - this.#options.windowMs)) this.#entries.delete(key);
    }
  }
}
