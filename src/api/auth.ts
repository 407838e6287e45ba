/**
 * Who is calling: a secret key as `Authorization: Bearer …` (scripts), or
 * the dashboard's session cookie. Every route behind `authenticate` can ask
 * `principalOf(request)`; admin routes also `requireAdmin`.
 */
import type { FastifyRequest } from 'fastify';
import type { Store } from '../store/database.ts';
import { isSandboxed } from '../accounts/sandbox.ts';
import { checkSecretKey } from '../accounts/keys.ts';
import { findAccountById } from '../accounts/accounts.ts';
import { resolveSession } from '../accounts/sessions.ts';
import { ApiError } from './errors.ts';
import { sessionToken } from './cookies.ts';

export interface Principal {
  accountId: string;
  email: string;
  dailyLimit: number;
  isAdmin: boolean;
  via: 'key' | 'session';
  /** Sandbox mode (account or key): mail is recorded and signed, delivered nowhere. */
  sandbox: boolean;
}

const principals = new WeakMap<FastifyRequest, Principal>();

const CHALLENGE = { 'www-authenticate': 'Bearer realm="mailroom"' };

export function authenticate(store: Store): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    const authorization = request.headers.authorization;
    let accountId: string;
    let via: Principal['via'];
    let keyId: string | null = null;
    if (authorization !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (!match) throw new ApiError(401, 'unauthenticated', 'Send your secret key as "Authorization: Bearer <secret key>"', undefined, CHALLENGE);
      const check = await checkSecretKey(store, match[1], null);
      if (!check.ok) {
        throw check.reason === 'revoked-key'
          ? new ApiError(401, 'revoked_key', 'This secret key has been revoked; create a new one', undefined, CHALLENGE)
          : new ApiError(401, 'invalid_key', 'The secret key is not valid', undefined, CHALLENGE);
      }
      accountId = check.accountId;
      keyId = check.keyId;
      via = 'key';
    } else {
      const token = sessionToken(request.headers.cookie);
      const session = token ? await resolveSession(store, token) : null;
      if (!session) throw new ApiError(401, 'unauthenticated', 'Send your secret key as "Authorization: Bearer <secret key>", or sign in', undefined, CHALLENGE);
      checkSameOrigin(request);
      accountId = session.accountId;
      via = 'session';
    }
    const account = await findAccountById(store, accountId);
    if (!account) throw new ApiError(401, 'unauthenticated', 'The account no longer exists', undefined, CHALLENGE);
    const sandbox = await isSandboxed(store.db, accountId, keyId);
    principals.set(request, { accountId, email: account.email, dailyLimit: account.dailyLimit, isAdmin: account.isAdmin, via, sandbox });
  };
}

export function principalOf(request: FastifyRequest): Principal {
  const principal = principals.get(request);
  if (!principal) throw new Error('principalOf() on a route without authenticate');
  return principal;
}

export function requireAdmin(request: FastifyRequest): Principal {
  const principal = principalOf(request);
  if (!principal.isAdmin) throw new ApiError(403, 'forbidden', 'Only an administrator may manage accounts');
  return principal;
}

/**
 * Browsers send the cookie only to our own site (SameSite=Strict); as a
 * second line, a state-changing request that says it comes from another
 * origin is refused.
 */
function checkSameOrigin(request: FastifyRequest): void {
  if (request.method === 'GET' || request.method === 'HEAD') return;
  const origin = request.headers.origin;
  if (!origin) return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    host = '';
  }
  if (host !== request.headers.host) throw new ApiError(403, 'cross_origin', 'Requests from another site may not use the dashboard session');
}
