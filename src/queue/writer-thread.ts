/**
 * The SQLite writer thread (a worker_threads entry point): see writer.ts.
 *
 * Requests that arrive while a transaction runs wait and go into the next
 * one together. Every caller is answered only after the COMMIT (the fsync)
 * that holds its writes; a request that fails is answered with its own error
 * alone (the batch is run again request by request, see runBatch).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../store/database.ts';
import { runOperation } from './write-operations.ts';
import type { WriterReply, WriterRequest } from './writer.ts';

/** Bounds one transaction's size, so no caller waits behind an unbounded batch. */
const MAX_BATCH = 512;

const store = await openStore(workerData.databaseUrl as string);
const port = parentPort!;
let queue: WriterRequest[] = [];
let running = false;
let closing = false;

port.on('message', (message: WriterRequest[] | 'close') => {
  if (message === 'close') closing = true;
  else queue.push(...message);
  if (!running) {
    running = true;
    // Let every message already waiting on the port arrive first: they share the commit.
    setImmediate(drain);
  }
});
port.postMessage({ ready: true });

async function drain(): Promise<void> {
  while (queue.length > 0) {
    const batch = queue.slice(0, MAX_BATCH);
    queue = queue.slice(batch.length);
    port.postMessage(await runBatch(batch));
  }
  running = false;
  if (closing) await store.close().finally(() => port.close());
}

async function runBatch(batch: readonly WriterRequest[]): Promise<WriterReply[]> {
  try {
    return await runTogether(batch);
  } catch {
    // One request failed and took the shared transaction with it: run each alone, so only
    // the failing one's caller hears of it. (Rare: requests are not expected to fail.)
    const replies: WriterReply[] = [];
    for (const request of batch) {
      try {
        replies.push(...(await runTogether([request])));
      } catch (error) {
        replies.push({ seq: request.seq, error: (error as Error).message });
      }
    }
    return replies;
  }
}

/** Every request of the batch in one transaction: one commit, one fsync. */
function runTogether(batch: readonly WriterRequest[]): Promise<WriterReply[]> {
  return store.db.transaction().execute(async (tx) => {
    const replies: WriterReply[] = [];
    for (const request of batch) {
      replies.push({ seq: request.seq, result: await runOperation(tx, store.engine, request.name, request.args as never) });
    }
    return replies;
  });
}
