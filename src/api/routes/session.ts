/**
 * Dashboard sign-in and sign-out. A correct email and password set the
 * session cookie; repeated failures from one address or against one account
 * are throttled by the policy of SMTP logins (accounts/auth-throttle.ts).
 */
import { Type } from 'typebox';
import { findAccountByEmail } from '../../accounts/accounts.ts';
import { verifyPassword } from '../../accounts/secrets.ts';
import { createSession, deleteSession } from '../../accounts/sessions.ts';
import { AuthThrottle } from '../../accounts/auth-throttle.ts';
import type { ApiApp, HttpDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { clearedSessionCookie, sessionCookie, sessionToken } from '../cookies.ts';
import { ERRORS, NoContent, Timestamp, iso } from '../schemas.ts';

const Login = Type.Object({
  email: Type.String({ minLength: 1, maxLength: 254 }),
  password: Type.String({ minLength: 1, maxLength: 1000 }),
}, { additionalProperties: false });

const SessionResponse = Type.Object({
  account: Type.Object({ id: Type.String(), email: Type.String(), dailyLimit: Type.Integer(), isAdmin: Type.Boolean() }),
  expiresAt: Timestamp,
});

export function sessionRoutes(app: ApiApp, deps: HttpDeps): void {
  const { store, throttle } = deps;

  app.post('/session', {
    schema: {
      tags: ['session'], summary: 'Sign in to the dashboard: sets the mailroom_session cookie', security: [],
      body: Login, response: { 200: SessionResponse, ...ERRORS },
    },
  }, async (request, reply) => {
    const email = request.body.email.trim().toLowerCase();
    // The policy of SMTP logins (accounts/auth-throttle.ts), counted apart from them.
    const lockedUntil = await throttle.lockedUntil('dashboard', request.ip, email);
    if (lockedUntil) throw tooManyFailures(lockedUntil);
    const account = await findAccountByEmail(store, request.body.email);
    const row = account ? await store.db.selectFrom('accounts').select('password_hash').where('id', '=', account.id).executeTakeFirst() : undefined;
    if (!account || !row || !(await verifyPassword(row.password_hash, request.body.password))) {
      const outcome = await throttle.recordFailure('dashboard', request.ip, email);
      if (outcome.alerted) deps.logger.warn({ event: 'auth.failures', account: email, failures: outcome.accountFailures }, `failed dashboard sign-ins for ${email} from several addresses; the owner is told`);
      await AuthThrottle.wait(outcome);
      if (outcome.lockedUntil) throw tooManyFailures(outcome.lockedUntil);
      throw new ApiError(401, 'invalid_login', 'The email or password is not right', 'password');
    }
    const session = await createSession(store, account.id);
    reply.header('set-cookie', sessionCookie(session.token, session.expiresAt, request.protocol === 'https'));
    return {
      account: { id: account.id, email: account.email, dailyLimit: account.dailyLimit, isAdmin: account.isAdmin },
      expiresAt: iso(session.expiresAt),
    };
  });

  app.delete('/session', {
    schema: { tags: ['session'], summary: 'Sign out: ends the session and clears the cookie', security: [], response: { 204: NoContent, ...ERRORS } },
  }, async (request, reply) => {
    const token = sessionToken(request.headers.cookie);
    if (token) await deleteSession(store, token);
    return reply.code(204).header('set-cookie', clearedSessionCookie(request.protocol === 'https')).send(null);
  });
}

function tooManyFailures(until: number): ApiError {
  return new ApiError(429, 'too_many_failures', `Too many failed sign-ins; try again after ${iso(until)}`, undefined,
    { 'retry-after': String(Math.max(1, Math.ceil((until - Date.now()) / 1000))) });
}
