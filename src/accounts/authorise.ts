/**
 * The one authorisation point both doors use. The SMTP door (AUTH) and the
 * HTTP door (Bearer key or dashboard session) each turn a credential into a
 * Principal here, and ask here whether that principal may send as a sender:
 * the account's verified domains and the key's own scope, in one place, so
 * a scope rule cannot be enforced on one door and forgotten on the other.
 */
import type { Store } from '../store/database.ts';
import { findAccountById } from './accounts.ts';
import { findKeyBySecret, recordKeyUse, type KeyUses } from './keys.ts';
import { checkKeyUse, checkScopedSender, FULL_SCOPE, type Door, type KeyScope, type KeyUseRefusal } from '../policy/key-scope.ts';
import { checkEnvelopeSender, checkHeaderAuthors, type AccountDomainFact } from '../policy/sender.ts';
import { ACCEPT, type ScopeHolder, type Verdict } from '../policy/refusal.ts';
import type { SenderIdentity } from '../queue/enqueue.ts';
import { findDeviceForIp } from './devices.ts';
import { isSandboxed } from './sandbox.ts';
import { domainOf } from '../message/address.ts';

/** Who is acting, and within which scope. */
export interface Principal {
  accountId: string;
  email: string;
  /** The account's limit; the key's own, if any, is `scope.dailyLimit`. */
  dailyLimit: number;
  isAdmin: boolean;
  via: 'key' | 'session' | 'device';
  /** The secret key used; null for the dashboard session and a device. */
  keyId: string | null;
  /** The registered device sending without AUTH (the device lane); null otherwise. */
  deviceId: string | null;
  scope: KeyScope;
  /** Sandbox mode (account or key): mail is recorded and signed, delivered nowhere. */
  sandbox: boolean;
}

export type KeyAuthentication =
  | { ok: true; principal: Principal }
  | { ok: false; reason: 'unknown-account' | 'wrong-key' | 'revoked-key' }
  | { ok: false; reason: 'out-of-scope'; refusal: KeyUseRefusal };

export interface KeyCredential {
  secret: string;
  /** The SMTP username; null over the API, where the key alone names the account. */
  email: string | null;
  door: Door;
  ip: string;
}

/** A secret key, through a door, from a client address: a principal, or why not. */
/** With `uses` (SMTP), the key's last use is handed to it and the check makes no write (see key-use-log.ts). */
export async function authenticateKey(store: Store, credential: KeyCredential, now = Date.now(), uses?: KeyUses): Promise<KeyAuthentication> {
  const found = await findKeyBySecret(store, credential.secret, credential.email);
  if (!found.ok) return found;
  const refusal = checkKeyUse(found.scope, credential.door, credential.ip, now);
  if (refusal) return { ok: false, reason: 'out-of-scope', refusal };
  await recordKeyUse(store, found, credential.ip, now, uses);
  return {
    ok: true,
    principal: { accountId: found.accountId, email: found.email, dailyLimit: found.dailyLimit, isAdmin: found.isAdmin, via: 'key', keyId: found.keyId, deviceId: null, scope: found.scope, sandbox: found.sandbox },
  };
}

/** The dashboard's signed-in owner: the whole account, no key scope. */
export async function sessionPrincipal(store: Store, accountId: string): Promise<Principal | null> {
  const account = await findAccountById(store, accountId);
  if (!account) return null;
  return {
    accountId, email: account.email, dailyLimit: account.dailyLimit, isAdmin: account.isAdmin, via: 'session', keyId: null, deviceId: null, scope: FULL_SCOPE,
    sandbox: await isSandboxed(store.db, accountId, null),
  };
}

/** May the principal use this envelope sender (MAIL FROM, or the API's from)? */
export function authoriseEnvelopeSender(principal: Principal, address: string, domains: readonly AccountDomainFact[]): Verdict {
  const account = checkEnvelopeSender(address, domains);
  return account.ok ? checkScopedSender(principal.scope, address, holderOf(principal)) : account;
}

/** May the principal use every author of the header From (null: none readable)? */
export function authoriseHeaderAuthors(principal: Principal, authors: readonly string[] | null, domains: readonly AccountDomainFact[]): Verdict {
  const account = checkHeaderAuthors(authors ? authors.map(domainOf) : null, domains);
  if (!account.ok) return account;
  for (const author of authors ?? []) {
    const scoped = checkScopedSender(principal.scope, author, holderOf(principal));
    if (!scoped.ok) return scoped;
  }
  return ACCEPT;
}

const holderOf = (principal: Principal): ScopeHolder => (principal.via === 'device' ? 'device' : 'key');

/** The key or device whose own count (and limit) a submission goes against, if any. */
export function identityOf(principal: Principal): SenderIdentity | null {
  const id = principal.keyId ?? principal.deviceId;
  return id === null ? null : { id, holder: holderOf(principal), dailyLimit: principal.scope.dailyLimit };
}

/**
 * The device lane: a client that did not log in, from a registered device's
 * address range, acts as that device — only its senders, only its limit, SMTP
 * only. null: not a device, so it must log in.
 */
export async function devicePrincipal(store: Store, ip: string): Promise<Principal | null> {
  const device = await findDeviceForIp(store, ip);
  if (!device) return null;
  const account = await findAccountById(store, device.accountId);
  if (!account) return null;
  return {
    accountId: account.id, email: account.email, dailyLimit: account.dailyLimit, isAdmin: false, via: 'device', keyId: null, deviceId: device.id,
    scope: { from: device.from, dailyLimit: device.dailyLimit, channel: 'smtp', ipRanges: device.ipRanges, expiresAt: null },
    sandbox: await isSandboxed(store.db, account.id, null),
  };
}
