/**
 * Why a pasted secret key does not log in, found in the store rather than
 * guessed from the SMTP reply (which, rightly, says the same for every bad
 * password): revoked, another account's, or no key at all.
 */
import type { Store } from '../store/database.ts';
import { hashSecretKey } from '../accounts/secrets.ts';

export type KeyDiagnosis =
  | { state: 'live' }
  | { state: 'revoked'; revokedAt: number }
  | { state: 'other-account' }
  | { state: 'unknown' };

export async function diagnoseKey(store: Store, accountId: string, secret: string): Promise<KeyDiagnosis> {
  const key = await store.db.selectFrom('secret_keys').select(['account_id', 'revoked_at'])
    .where('secret_hash', '=', hashSecretKey(secret.trim())).executeTakeFirst();
  if (!key) return { state: 'unknown' };
  if (key.account_id !== accountId) return { state: 'other-account' };
  return key.revoked_at === null ? { state: 'live' } : { state: 'revoked', revokedAt: key.revoked_at };
}

export function keyDiagnosisWords(diagnosis: KeyDiagnosis): string {
  switch (diagnosis.state) {
    case 'live': return 'The key is a live key of this account.';
    case 'revoked': return `This key was revoked on ${new Date(diagnosis.revokedAt).toISOString()}: create a new one and paste that.`;
    case 'other-account': return 'This key belongs to another account: the username must be the email of the account the key belongs to.';
    case 'unknown': return 'This is not a secret key of any account (check for a missing character when copying it).';
  }
}
