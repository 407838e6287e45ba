/**
 * A key check in the shape older tests pin (account, limit, key id), made
 * through the one authorisation point as an SMTP login from 127.0.0.1.
 */
import type { Store } from '../../src/store/database.ts';
import { authenticateKey } from '../../src/accounts/authorise.ts';

export type KeyCheck =
  | { ok: true; accountId: string; email: string; dailyLimit: number; keyId: string }
  | { ok: false; reason: string };

export async function checkSecretKey(store: Store, secret: string, email: string | null): Promise<KeyCheck> {
  const result = await authenticateKey(store, { secret, email, door: 'smtp', ip: '127.0.0.1' });
  if (!result.ok) return { ok: false, reason: result.reason };
  const { accountId, email: account, dailyLimit, keyId } = result.principal;
  return { ok: true, accountId, email: account, dailyLimit, keyId: keyId! };
}
