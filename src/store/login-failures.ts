/**
 * The login throttle's one write: record a failed login against its three
 * counters and say what the counts now mean. It is a queue-writer operation
 * (accounts/account-writes.ts), so on SQLite its commit runs on the writer
 * thread with the other writes instead of fsyncing on the main thread.
 *
 * Counters: the client IP, the (IP, account) pair and the account. The first
 * two lock (that IP, or that IP for that account) once they reach their
 * limit; the account counter never locks anything, since strangers can raise
 * it at will: it only slows failures down and tells the owner once per window.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

export interface LoginFailure {
  keys: { ip: string; ipAccount: string; account: string };
  limits: { ip: number; ipAccount: number; accountAlert: number };
  windowMs: number;
  now: number;
  /** The account the failed login named, when it exists: whom to tell. */
  accountId: string | null;
  /** What the owner is told when the account's failures reach the alert figure. */
  alertText: string;
}

export interface LoginFailureVerdict {
  /** When the IP (or the IP for this account) is locked until, if this failure locked it. */
  lockedUntil: number | null;
  /** Failures against the account from every address within the window, this one included. */
  accountFailures: number;
  /** This failure crossed the alert figure: an `auth.failures` event was written. */
  alerted: boolean;
}

export async function recordLoginFailure(tx: Kysely<Database>, failure: LoginFailure): Promise<LoginFailureVerdict> {
  const { keys, limits, windowMs, now } = failure;
  const since = now - windowMs;
  await tx.insertInto('auth_failures').values([keys.ip, keys.ipAccount, keys.account].map((key) => ({ key, at: now }))).execute();
  // Failures that fell out of the window and locks that ran out are forgotten (indexed on time).
  await tx.deleteFrom('auth_failures').where('at', '<=', since).execute();
  await tx.deleteFrom('auth_locks').where('locked_until', '<=', now).execute();
  const count = async (key: string) => Number((await tx.selectFrom('auth_failures').select((eb) => eb.fn.countAll<number>().as('n'))
    .where('key', '=', key).where('at', '>', since).executeTakeFirstOrThrow()).n);

  let lockedUntil: number | null = null;
  for (const [key, limit] of [[keys.ip, limits.ip], [keys.ipAccount, limits.ipAccount]] as const) {
    if (await count(key) < limit) continue;
    const until = now + windowMs;
    await tx.insertInto('auth_locks').values({ key, locked_until: until })
      .onConflict((oc) => oc.column('key').doUpdateSet({ locked_until: until })).execute();
    // Counting starts afresh once the lock ends.
    await tx.deleteFrom('auth_failures').where('key', '=', key).execute();
    lockedUntil = until;
  }

  const accountFailures = await count(keys.account);
  let alerted = false;
  if (accountFailures >= limits.accountAlert && failure.accountId) {
    // Once per window: the marker is a lock row no login check ever reads.
    const marker = `alerted:${keys.account}`;
    const told = await tx.selectFrom('auth_locks').select('key').where('key', '=', marker).executeTakeFirst();
    if (!told) {
      await tx.insertInto('auth_locks').values({ key: marker, locked_until: now + windowMs }).execute();
      await tx.insertInto('message_events').values({
        account_id: failure.accountId, message_id: '', delivery_id: null, recipient: null, type: 'auth.failures',
        reply: failure.alertText, bounce_class: null, created_at: now,
      }).execute();
      alerted = true;
    }
  }
  return { lockedUntil, accountFailures, alerted };
}
