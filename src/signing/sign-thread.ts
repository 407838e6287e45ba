/** A DKIM signing thread (worker_threads entry point): see signing-pool.ts. */
import { parentPort } from 'node:worker_threads';
import { reuseParsedPrivateKeys } from './key-cache.ts';
import { signMessage } from './dkim.ts';
import type { SignReply, SignRequest } from './signing-pool.ts';

reuseParsedPrivateKeys();

/** Keys by the id the pool gave them; the pool resends a key it has forgotten sending. */
const keys = new Map<number, string>();
const MAX_KEYS = 1000;

const port = parentPort!;
port.on('message', (requests: SignRequest[]) => {
  void signAll(requests).then((replies) => port.postMessage(replies));
});

/** One after the other: interleaving the signer's streams costs more CPU (about 10%) and gains nothing. */
async function signAll(requests: readonly SignRequest[]): Promise<SignReply[]> {
  const replies: SignReply[] = [];
  for (const request of requests) replies.push(await signOne(request));
  return replies;
}

async function signOne({ seq, raw, domain, selector, keyId, privateKeyPem }: SignRequest): Promise<SignReply> {
  if (privateKeyPem !== undefined) {
    if (keys.size >= MAX_KEYS) keys.clear();
    keys.set(keyId, privateKeyPem);
  }
  const pem = keys.get(keyId);
  if (pem === undefined) return { seq, error: `DKIM key ${keyId} for ${selector}._domainkey.${domain} is unknown to the signing thread` };
  const message = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  try {
    const signed = await signMessage(message, { domain, selector, privateKeyPem: pem });
    return { seq, header: signed.subarray(0, signed.length - message.length).toString() };
  } catch (error) {
    return { seq, error: (error as Error).message };
  }
}
