/**
 * One-click unsubscribe links (RFC 8058). The link names the account, the
 * message and the recipient, and carries an HMAC over them with a secret the
 * nodes share, so nobody can forge a link that unsubscribes someone else,
 * and a link answers only for the recipient it was made for. A message that
 * asks for one gets `List-Unsubscribe: <link>` and
 * `List-Unsubscribe-Post: List-Unsubscribe=One-Click`; both are in the DKIM
 * header list (signing/dkim.ts), as Gmail and Yahoo require of bulk senders.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Store } from '../store/database.ts';
import { sharedSecret } from '../store/settings.ts';

export interface UnsubscribeTarget {
  accountId: string;
  messageId: string;
  address: string;
}

const secrets = new WeakMap<Store, Promise<string>>();

/** The installation's unsubscribe secret, made on first use and shared by every node through the store. */
export function unsubscribeSecret(store: Store): Promise<string> {
  let secret = secrets.get(store);
  if (!secret) {
    secret = sharedSecret(store, 'unsubscribe_secret');
    secrets.set(store, secret);
  }
  return secret;
}

export function unsubscribeToken(secret: string, target: UnsubscribeTarget): string {
  const payload = Buffer.from(JSON.stringify([target.accountId, target.messageId, target.address])).toString('base64url');
  return `${payload}.${mac(secret, payload)}`;
}

/** The target of a token made with `secret`, or null for anything forged, altered or malformed. */
export function readUnsubscribeToken(secret: string, token: string): UnsubscribeTarget | null {
  const [payload, signature, extra] = token.split('.');
  if (!payload || !signature || extra !== undefined) return null;
  const expected = Buffer.from(mac(secret, payload));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const [accountId, messageId, address] = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown[];
    if (typeof accountId !== 'string' || typeof messageId !== 'string' || typeof address !== 'string') return null;
    return { accountId, messageId, address };
  } catch {
    return null;
  }
}

function mac(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(`unsubscribe\n${payload}`).digest('base64url').slice(0, 32);
}
