/**
 * Who is calling: a secret key as `Authorization: Bearer …` (scripts), or
 * the dashboard's session cookie. Every route behind `authenticate` can ask
 * `principalOf(request)`; admin routes also `requireAdmin`.
 */
import type { FastifyRequest } from 'fastify';
import type { Store } from '../store/database.ts';
import { authenticateKey, sessionPrincipal, type Principal } from '../accounts/authorise.ts';
import type { KeyUseRefusal } from '../policy/key-scope.ts';
import { resolveSession } from '../accounts/sessions.ts';
import { ApiError } from './errors.ts';
import { sessionToken } from './cookies.ts';

export type { Principal } from '../accounts/authorise.ts';

const principals = new WeakMap<FastifyRequest, Principal>();

const CHALLENGE = { 'www-authenticate': 'Bearer realm="mailroom"' };

/** Route option marking the routes that send mail, the only ones a key of channel `api` may call. */
export const SENDS_MAIL = { sends: true } as const;

function errorForKeyUse(refusal: KeyUseRefusal): ApiError {
  switch (refusal.kind) {
    case 'key-expired':
      return new ApiError(401, 'expired_key', `This secret key expired at ${new Date(refusal.at).toISOString()}; create a new one`, undefined, CHALLENGE);
    case 'key-wrong-channel':
      return new ApiError(403, 'key_channel', refusal.channel === 'smtp'
        ? 'This secret key may be used only over SMTP (its channel is smtp)'
        : 'This secret key may only send mail (its channel is api): POST /api/v1/messages');
    case 'key-ip-not-allowed':
      return new ApiError(403, 'key_ip_not_allowed', `This secret key may be used only from ${refusal.ranges.join(', ')}; ${refusal.ip} is not among them`);
  }
}

export function authenticate(store: Store): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    const authorization = request.headers.authorization;
    let principal: Principal | null;
    if (authorization !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (!match) throw new ApiError(401, 'unauthenticated', 'Send your secret key as "Authorization: Bearer <secret key>"', undefined, CHALLENGE);
      const sends = (request.routeOptions.config as { sends?: boolean } | undefined)?.sends === true;
      const check = await authenticateKey(store, { secret: match[1], email: null, door: sends ? 'api-send' : 'api', ip: request.ip });
      if (!check.ok) {
        if (check.reason === 'out-of-scope') throw errorForKeyUse(check.refusal);
        throw check.reason === 'revoked-key'
          ? new ApiError(401, 'revoked_key', 'This secret key has been revoked; create a new one', undefined, CHALLENGE)
          : new ApiError(401, 'invalid_key', 'The secret key is not valid', undefined, CHALLENGE);
      }
      principal = check.principal;
    } else {
      const token = sessionToken(request.headers.cookie);
      const session = token ? await resolveSession(store, token) : null;
      if (!session) throw new ApiError(401, 'unauthenticated', 'Send your secret key as "Authorization: Bearer <secret key>", or sign in', undefined, CHALLENGE);
      checkSameOrigin(request);
      principal = await sessionPrincipal(store, session.accountId);
    }
    if (!principal) throw new ApiError(401, 'unauthenticated', 'The account no longer exists', undefined, CHALLENGE);
    principals.set(request, principal);
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
