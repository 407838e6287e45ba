/** A DKIM signing thread (worker_threads entry point): see signing-pool.ts. */
import { parentPort } from 'node:worker_threads';
import { reuseParsedPrivateKeys } from './key-cache.ts';
import { signMessage, type DkimKey } from './dkim.ts';

reuseParsedPrivateKeys();

const port = parentPort!;
port.on('message', ({ seq, raw, key }: { seq: number; raw: Uint8Array; key: DkimKey }) => {
  const message = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  signMessage(message, key).then(
    (signed) => port.postMessage({ seq, header: signed.subarray(0, signed.length - message.length).toString() }),
    (error: Error) => port.postMessage({ seq, error: error.message }),
  );
});
