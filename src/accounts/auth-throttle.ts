/**
 * Failed logins, counted so that guessing is slowed to a crawl without
 * letting a stranger lock anybody out. Three counters, kept in the store so
 * guesses spread over several nodes add up:
 *
 * - per client IP: after `maxFailuresPerIp` within the window that IP is
 *   refused (`421 4.7.0`, disconnect; 429 on the dashboard) until the window
 *   passes: it has shown it does not know the keys.
 * - per (IP, account): the same, for one account from one IP, sooner.
 * - per account, from every IP: never a lock (anyone who knows the address
 *   could raise it, and Gmail's servers, which many users share, would be
 *   locked with them). From `accountAlertAfter` on, each further failure
 *   waits longer before its refusal, and the owner is told once per window
 *   (an `auth.failures` event: webhook and dashboard notice).
 *
 * So a correct key from an IP that has not failed always works. Writes go
 * through the queue writer (on SQLite: its thread); checks read the store.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/options.ts';
import type { Store } from '../store/database.ts';
import type { QueueWriter } from '../queue/writer.ts';
import type { AccountWrites } from './account-writes.ts';

export interface AuthThrottlePolicy {
  maxFailuresPerIp: number;
  maxFailuresPerIpAccount: number;
  accountAlertAfter: number;
  windowMs: number;
  /** The longest wait before a refusal once an account is under attack. */
  maxDelayMs: number;
}

/** SMTP and the dashboard count apart: a mistyped dashboard password must not lock a mail client out. */
export type LoginScope = 'smtp' | 'dashboard';

export interface FailureOutcome {
  /** Set when this failure locked the IP (or the IP for this account): answer with the lock, not a plain refusal. */
  lockedUntil: number | null;
  /** How long to wait before answering: the account is being guessed at from many places. */
  delayMs: number;
  accountFailures: number;
  /** This failure told the owner (an `auth.failures` event). */
  alerted: boolean;
}

/** The first wait once an account reaches its alert figure; it doubles with each further failure. */
const FIRST_DELAY_MS = 250;

export function authThrottlePolicy(config: Config): AuthThrottlePolicy {
  return {
    maxFailuresPerIp: config.authMaxFailures, maxFailuresPerIpAccount: config.authMaxAccountFailuresPerIp,
    accountAlertAfter: config.authAccountAlert, windowMs: config.authFailureWindow, maxDelayMs: config.authMaxDelay,
  };
}

export class AuthThrottle {
  readonly #store: Store;
  readonly #writer: QueueWriter<AccountWrites>;
  readonly policy: AuthThrottlePolicy;
  readonly #now: () => number;

  constructor(store: Store, writer: QueueWriter<AccountWrites>, policy: AuthThrottlePolicy, now: () => number = Date.now) {
    this.#store = store;
    this.#writer = writer;
    this.policy = policy;
    this.#now = now;
  }

  /** When this IP, or this IP for this account, is locked: the lock's end; else null. The account alone never is. */
  async lockedUntil(scope: LoginScope, ip: string, account: string): Promise<number | null> {
    const keys = keysFor(scope, ip, account);
    const rows = await this.#store.db.selectFrom('auth_locks').select('locked_until')
      .where('key', 'in', [keys.ip, keys.ipAccount]).where('locked_until', '>', this.#now()).execute();
    return rows.length === 0 ? null : Math.max(...rows.map((row) => Number(row.locked_until)));
  }

  async recordFailure(scope: LoginScope, ip: string, account: string): Promise<FailureOutcome> {
    const accountRow = account === '' ? undefined
      : await this.#store.db.selectFrom('accounts').select('id').where('email', '=', account).executeTakeFirst();
    const { policy } = this;
    const verdict = await this.#writer.run('recordLoginFailure', {
      keys: keysFor(scope, ip, account),
      limits: { ip: policy.maxFailuresPerIp, ipAccount: policy.maxFailuresPerIpAccount, accountAlert: policy.accountAlertAfter },
      windowMs: policy.windowMs, now: this.#now(), accountId: accountRow?.id ?? null,
      alertText: `${policy.accountAlertAfter} or more failed ${scope === 'smtp' ? 'SMTP' : 'dashboard'} logins for ${account} within ${Math.round(policy.windowMs / 60_000)} minutes (the latest from ${ip}); they are being slowed down. Logins from addresses that have not failed are not affected. If this was not you, nothing needs doing; if it was, check the key or password you use.`,
    });
    const over = verdict.accountFailures - policy.accountAlertAfter;
    const delayMs = over < 0 ? 0 : Math.min(policy.maxDelayMs, FIRST_DELAY_MS * 2 ** Math.min(over, 20));
    return { ...verdict, delayMs };
  }

  /** Waits out a failure's delay before the refusal is sent. */
  static wait(outcome: FailureOutcome): Promise<void> {
    return outcome.delayMs > 0 ? sleep(outcome.delayMs) : Promise.resolve();
  }
}

function keysFor(scope: LoginScope, ip: string, account: string) {
  const prefix = scope === 'smtp' ? '' : 'dashboard-';
  return { ip: `${prefix}ip:${ip}`, ipAccount: `${prefix}ip-account:${ip}|${account}`, account: `${prefix}account:${account}` };
}
