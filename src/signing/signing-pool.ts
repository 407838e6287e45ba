/**
 * DKIM signing off the main thread. An RSA signature plus the library's
 * canonicalisation costs about 0.6 ms of CPU per message — more than the rest
 * of the delivery path — and on the main thread it would stall every SMTP
 * session and delivery. A few signing threads use the other cores instead.
 *
 * Crossing to a thread has its own costs, kept small: requests made in one
 * turn of the event loop go in one message per thread, each body crosses as
 * an exact copy (a structured clone copies a Buffer's whole backing store, for
 * small Buffers an 8 KB pool slab), and a thread is sent each private key once.
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

/** One signature to make. The key's PEM crosses once per thread; later requests name it by `keyId`. */
export interface SignRequest {
  seq: number;
  raw: Uint8Array;
  domain: string;
  selector: string;
  keyId: number;
  privateKeyPem?: string;
}

export type SignReply = { seq: number; header: string } | { seq: number; error: string };

interface SigningThread {
  worker: Worker;
  /** Private keys (PEM) this thread has been sent, with the id it knows each by. */
  keys: Map<string, number>;
  outbox: SignRequest[];
  /** Requests sent to this thread and not answered yet. */
  pending: Set<number>;
}

/** Keys a thread keeps; beyond this many it is sent keys again (it keeps its own bounded cache). */
const MAX_KEYS_PER_THREAD = 1000;

export interface SigningPoolOptions {
  size?: number;
  /** The thread's entry point; tests give one that can be made to crash. */
  entry?: URL;
}

export function startSigningPool(options: SigningPoolOptions = {}): SigningPool {
  const size = options.size ?? Math.max(1, availableParallelism() - 1);
  const entry = options.entry ?? new URL('./sign-thread.ts', import.meta.url);
  const waiting = new Map<number, { raw: Buffer; resolve: (b: Buffer) => void; reject: (e: Error) => void }>();
  let seq = 0;
  let next = 0;
  let closing = false;

  /**
   * A thread that dies (a crash, memory exhausted) fails the requests it held, so their
   * deliveries are retried instead of waiting for ever, and is replaced by a fresh thread.
   */
  const spawn = (thread: SigningThread): void => {
    const worker = new Worker(entry, { name: 'mailroom-signer' });
    worker.on('message', (replies: SignReply[]) => {
      for (const reply of replies) {
        const pending = waiting.get(reply.seq);
        thread.pending.delete(reply.seq);
        if (!pending) continue;
        waiting.delete(reply.seq);
        if ('header' in reply) pending.resolve(Buffer.concat([Buffer.from(reply.header), pending.raw]));
        else pending.reject(new Error(reply.error));
      }
    });
    worker.on('error', () => {}); // the exit that follows says it all
    worker.on('exit', (code) => {
      const error = new Error(`the DKIM signing thread stopped (exit code ${code})`);
      const lost = [...thread.pending, ...thread.outbox.map((request) => request.seq)];
      for (const id of lost) {
        waiting.get(id)?.reject(error);
        waiting.delete(id);
      }
      thread.pending.clear();
      thread.outbox = [];
      thread.keys.clear();
      if (!closing) spawn(thread);
    });
    worker.unref();
    thread.worker = worker;
  };
  const threads: SigningThread[] = Array.from({ length: size }, () => {
    const thread = { keys: new Map<string, number>(), outbox: [], pending: new Set<number>() } as Omit<SigningThread, 'worker'> as SigningThread;
    spawn(thread);
    return thread;
  });
  const flush = (thread: SigningThread) => {
    const requests = thread.outbox;
    thread.outbox = [];
    for (const request of requests) thread.pending.add(request.seq);
    thread.worker.postMessage(requests);
  };
  return {
    sign(raw, key) {
      return new Promise((resolve, reject) => {
        seq += 1;
        waiting.set(seq, { raw, resolve, reject });
        const thread = threads[next];
        next = (next + 1) % threads.length;
        let keyId = thread.keys.get(key.privateKeyPem);
        const request: SignRequest = { seq, raw: exactCopy(raw), domain: key.domain, selector: key.selector, keyId: keyId ?? seq };
        if (keyId === undefined) {
          if (thread.keys.size >= MAX_KEYS_PER_THREAD) thread.keys.clear();
          keyId = seq;
          thread.keys.set(key.privateKeyPem, keyId);
          request.privateKeyPem = key.privateKeyPem;
        }
        if (thread.outbox.push(request) === 1) setImmediate(() => flush(thread));
      });
    },
    async close() {
      closing = true;
      await Promise.all(threads.map((thread) => thread.worker.terminate()));
    },
  };
}

function exactCopy(bytes: Buffer): Uint8Array {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy;
}
