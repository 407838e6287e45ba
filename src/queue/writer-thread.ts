/**
 * The SQLite writer thread (a worker_threads entry point): see writer.ts.
 *
 * Requests that arrive while a transaction runs wait and go into the next
 * one together, each inside a savepoint of its own: one request's failure
 * (a refused insert) undoes that request alone, and its caller alone sees
 * the error. Every caller is answered only after the COMMIT (the fsync) that
 * holds its writes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { sql } from 'kysely';
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
    return await store.db.transaction().execute(async (tx) => {
      const replies: WriterReply[] = [];
      for (const request of batch) {
        await sql`savepoint request`.execute(tx);
        try {
          const result = await runOperation(tx, store.engine, request.name, request.args as never);
          await sql`release request`.execute(tx);
          replies.push({ seq: request.seq, result });
        } catch (error) {
          await sql`rollback to request`.execute(tx);
          await sql`release request`.execute(tx);
          replies.push({ seq: request.seq, error: (error as Error).message });
        }
      }
      return replies;
    });
  } catch (error) {
    // The commit itself failed: nothing of the batch is written.
    return batch.map((request) => ({ seq: request.seq, error: (error as Error).message }));
  }
}
