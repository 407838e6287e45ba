/**
 * Reuse of parsed DKIM private keys on a signing thread.
 *
 * mailauth takes the key as PEM and calls `crypto.createPrivateKey` on it for
 * every signature. Parsing is cheap; what is not is that OpenSSL builds its
 * per-key RSA precomputation (Montgomery contexts, blinding) on the first
 * signature made with each new key object: measured here, 0.63 ms per
 * signature with a fresh key object against 0.29 ms with a reused one — the
 * largest single cost of sending a message. mailauth has no way to take a key
 * object, so on the signing threads (which run nothing but the signer) the
 * PEM → key object step is memoised.
 */
import crypto, { type KeyObject } from 'node:crypto';

/** Domains a node signs for; beyond this many keys the cache starts over. */
const MAX_KEYS = 1000;

export function reuseParsedPrivateKeys(): void {
  const parse = crypto.createPrivateKey;
  const parsed = new Map<string, KeyObject>();
  crypto.createPrivateKey = function createPrivateKeyOnce(input) {
    const pem = pemOf(input);
    if (pem === null) return parse(input);
    let key = parsed.get(pem);
    if (!key) {
      if (parsed.size >= MAX_KEYS) parsed.clear();
      key = parse(input);
      parsed.set(pem, key);
    }
    return key;
  } as typeof crypto.createPrivateKey;
}

/** The PEM text of an unencrypted PEM key input, or null for anything else (left to Node). */
function pemOf(input: Parameters<typeof crypto.createPrivateKey>[0]): string | null {
  if (typeof input === 'string') return input;
  if (Buffer.isBuffer(input)) return input.toString('latin1');
  if (typeof input !== 'object' || input === null || !('key' in input)) return null;
  const { key, format, passphrase } = input as { key: unknown; format?: string; passphrase?: unknown };
  if ((format !== undefined && format !== 'pem') || passphrase !== undefined) return null;
  if (typeof key === 'string') return key;
  return Buffer.isBuffer(key) ? key.toString('latin1') : null;
}
