/**
 * Counts failed logins per client IP and per account email, so password
 * guessing is slowed to a crawl: after `maxFailures` within `windowMs` the
 * key is locked until the window passes. Kept in the store, so the count is
 * the installation's: guesses spread over several nodes add up.
 */
import { sql } from 'kysely';
import type { Store } from '../store/database.ts';

export interface AuthThrottleOptions {
  maxFailures: number;
  windowMs: number;
  now?: () => number;
}

export class AuthThrottle {
  readonly #store: Store;
  readonly #options: AuthThrottleOptions;
  readonly #now: () => number;

  constructor(store: Store, options: AuthThrottleOptions) {
    this.#store = store;
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** When any of the keys is locked, the time its lock ends; else null. */
  async lockedUntil(keys: readonly string[]): Promise<number | null> {
    const row = await this.#store.db.selectFrom('auth_locks')
      .select(sql<number | null>`max(locked_until)`.as('until'))
      .where('key', 'in', [...keys]).where('locked_until', '>', this.#now())
      .executeTakeFirst();
    return row?.until == null ? null : Number(row.until);
  }

  /** Records a failure against every key; returns the lock end if this failure locked one. */
  recordFailure(keys: readonly string[]): Promise<number | null> {
    const now = this.#now();
    const since = now - this.#options.windowMs;
    return this.#store.db.transaction().execute(async (tx) => {
      await tx.insertInto('auth_failures').values(keys.map((key) => ({ key, at: now }))).execute();
      // Failures that fell out of the window and locks that ran out are forgotten (indexed on time).
      await tx.deleteFrom('auth_failures').where('at', '<=', since).execute();
      await tx.deleteFrom('auth_locks').where('locked_until', '<=', now).execute();
      let locked: number | null = null;
      for (const key of keys) {
        const { failures } = await tx.selectFrom('auth_failures').select((eb) => eb.fn.countAll<number>().as('failures'))
          .where('key', '=', key).where('at', '>', since).executeTakeFirstOrThrow();
        if (Number(failures) < this.#options.maxFailures) continue;
        const until = now + this.#options.windowMs;
        await tx.insertInto('auth_locks').values({ key, locked_until: until })
          .onConflict((oc) => oc.column('key').doUpdateSet({ locked_until: until })).execute();
        // Counting starts afresh once the lock ends.
        await tx.deleteFrom('auth_failures').where('key', '=', key).execute();
        locked = Math.max(locked ?? 0, until);
      }
      return locked;
    });
  }
}
