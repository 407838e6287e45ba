/**
 * Dashboard sessions: a long random token in the `mailroom_session` cookie,
 * stored only as its SHA-256 (like secret keys, it is too random to guess, so
 * a fast hash suffices and a copy of the database logs nobody in).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Store } from '../store/database.ts';

export const SESSION_COOKIE = 'mailroom_session';
export const SESSION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export async function createSession(store: Store, accountId: string, now: number = Date.now()): Promise<{ token: string; expiresAt: number }> {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = now + SESSION_TTL_MS;
  await store.db.transaction().execute(async (tx) => {
    // Logins are rare, so each one sweeps away expired sessions: no timer needed.
    await tx.deleteFrom('web_sessions').where('expires_at', '<=', now).execute();
    await tx.insertInto('web_sessions').values({ token_hash: hashToken(token), account_id: accountId, created_at: now, expires_at: expiresAt }).execute();
  });
  return { token, expiresAt };
}

export async function resolveSession(store: Store, token: string, now: number = Date.now()): Promise<{ accountId: string } | null> {
  if (token === '' || token.length > 200) return null;
  const row = await store.db.selectFrom('web_sessions').select(['account_id', 'expires_at'])
    .where('token_hash', '=', hashToken(token)).executeTakeFirst();
  if (!row || Number(row.expires_at) <= now) return null;
  return { accountId: row.account_id };
}

export async function deleteSession(store: Store, token: string): Promise<void> {
  await store.db.deleteFrom('web_sessions').where('token_hash', '=', hashToken(token)).execute();
}
