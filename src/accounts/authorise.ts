/**
 * The one authorisation point both doors use. The SMTP door (AUTH) and the
 * HTTP door (Bearer key or dashboard session) each turn a credential into a
 * Principal here, and ask here whether that principal may send as a sender:
 * the account's verified domains and the key's own scope, in one place, so
 * a scope rule cannot be enforced on one door and forgotten on the other.
 */
import type { Store } from '../store/database.ts';
import { findAccountById } from './accounts.ts';
import { findKeyBySecret, recordKeyUse } from './keys.ts';
import { checkKeyUse, checkScopedSender, FULL_SCOPE, type Door, type KeyScope, type KeyUseRefusal } from '../policy/key-scope.ts';
import { checkEnvelopeSender, checkHeaderAuthors, type AccountDomainFact } from '../policy/sender.ts';
import { ACCEPT, type Verdict } from '../policy/refusal.ts';
import { domainOf } from './email.ts';

/** Who is acting, and within which scope. */
export interface Principal {
  accountId: string;
  email: string;
  /** The account's limit; the key's own, if any, is `scope.dailyLimit`. */
  dailyLimit: number;
  isAdmin: boolean;
  via: 'key' | 'session';
  /** The secret key used; null for the dashboard session. */
  keyId: string | null;
  scope: KeyScope;
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
export async function authenticateKey(store: Store, credential: KeyCredential, now = Date.now()): Promise<KeyAuthentication> {
  const found = await findKeyBySecret(store, credential.secret, credential.email);
  if (!found.ok) return found;
  const refusal = checkKeyUse(found.scope, credential.door, credential.ip, now);
  if (refusal) return { ok: false, reason: 'out-of-scope', refusal };
  await recordKeyUse(store, found.keyId, found.lastUsedAt, credential.ip, now);
  return {
    ok: true,
    principal: { accountId: found.accountId, email: found.email, dailyLimit: found.dailyLimit, isAdmin: found.isAdmin, via: 'key', keyId: found.keyId, scope: found.scope },
  };
}

/** The dashboard's signed-in owner: the whole account, no key scope. */
export async function sessionPrincipal(store: Store, accountId: string): Promise<Principal | null> {
  const account = await findAccountById(store, accountId);
  if (!account) return null;
  return { accountId, email: account.email, dailyLimit: account.dailyLimit, isAdmin: account.isAdmin, via: 'session', keyId: null, scope: FULL_SCOPE };
}

/** May the principal use this envelope sender (MAIL FROM, or the API's from)? */
export function authoriseEnvelopeSender(principal: Principal, address: string, domains: readonly AccountDomainFact[]): Verdict {
  const account = checkEnvelopeSender(address, domains);
  return account.ok ? checkScopedSender(principal.scope, address) : account;
}

/** May the principal use every author of the header From (null: none readable)? */
export function authoriseHeaderAuthors(principal: Principal, authors: readonly string[] | null, domains: readonly AccountDomainFact[]): Verdict {
  const account = checkHeaderAuthors(authors ? authors.map(domainOf) : null, domains);
  if (!account.ok) return account;
  for (const author of authors ?? []) {
    const scoped = checkScopedSender(principal.scope, author);
    if (!scoped.ok) return scoped;
  }
  return ACCEPT;
}
