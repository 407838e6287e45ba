/**
 * DKIM signing off the main thread. An RSA signature plus the library's
 * canonicalisation costs about 2 ms of CPU per message — more than the rest
 * of the delivery path — and on the main thread it would stall every SMTP
 * session and delivery. A few signing threads use the other cores instead.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { DkimKey } from './dkim.ts';

/** Signs and returns the message with its DKIM-Signature header prepended. */
export type Signer = (raw: Buffer, key: DkimKey) => Promise<Buffer>;

export interface SigningPool {
  sign: Signer;
  close(): Promise<void>;
}

export function startSigningPool(size = Math.max(1, availableParallelism() - 1)): SigningPool {
  const waiting = new Map<number, { raw: Buffer; resolve: (b: Buffer) => void; reject: (e: Error) => void }>();
  let seq = 0;
  let next = 0;
  const workers = Array.from({ length: size }, () => {
    const worker = new Worker(new URL('./sign-thread.ts', import.meta.url), { name: 'mailroom-signer' });
    worker.on('message', (reply: { seq: number; header?: string; error?: string }) => {
      const pending = waiting.get(reply.seq);
      if (!pending) return;
      waiting.delete(reply.seq);
      if (reply.header !== undefined) pending.resolve(Buffer.concat([Buffer.from(reply.header), pending.raw]));
      else pending.reject(new Error(reply.error ?? 'DKIM signing failed'));
    });
    worker.on('error', (error) => {
      for (const pending of waiting.values()) pending.reject(error);
      waiting.clear();
    });
    worker.unref();
    return worker;
  });
  return {
    sign(raw, key) {
      return new Promise((resolve, reject) => {
        seq += 1;
        waiting.set(seq, { raw, resolve, reject });
        workers[next].postMessage({ seq, raw, key });
        next = (next + 1) % workers.length;
      });
    },
    async close() {
      await Promise.all(workers.map((worker) => worker.terminate()));
    },
  };
}
