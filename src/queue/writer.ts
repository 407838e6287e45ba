/**
 * Where the queue writer's operations (write-set.ts) run, and how: on both
 * engines through one group commit (store/group-commit.ts, batchWriter
 * below): whatever arrives while a transaction runs goes into the next one
 * together, requests of one operation as one statement where they can
 * (runRequests), and a request that fails fails alone.
 *
 * PostgreSQL: in this thread: its commits wait on the network, not on it.
 * There, nodes share the rows, so what must never wait behind a batch (a
 * lease heartbeat, a claim: single statements, atomic alone, that skip
 * locked rows) or would hold a lock every node needs for a whole batch (the
 * webhook feed's cursor, shaping rows, retention) runs at once beside it, in
 * a statement or transaction of its own.
 *
 * SQLite: on one writer thread (writer-thread.ts) with a connection of its
 * own. node:sqlite is synchronous, so on the main thread every COMMIT
 * (synchronous=FULL: an fsync) froze every SMTP session and delivery for its
 * duration, and a write waiting for SQLite's single write lock slept in the
 * busy handler, freezing them too. One writer thread never waits for the lock
 * (nobody else in the process takes it), and it runs whatever arrived during
 * one commit in the next, so one fsync serves many submissions, claims and
 * outcomes. The main thread keeps reading through WAL without waiting.
 */
import { Worker } from 'node:worker_threads';
import type { Kysely } from 'kysely';
import type { Engine, Store } from '../store/database.ts';
import type { Database } from '../store/schema.ts';
import { GroupCommit, isolateFailures, type Settled } from '../store/group-commit.ts';
import { requestRunner, type OperationArgs, type OperationName, type OperationResult, type OperationTable, type WriteRequest, type WriteSet } from './write-set.ts';
import type { QueueWrites } from './write-operations.ts';

/** A writer for the operations of T; a caller names only the set it uses (by default the queue's own). */
export interface QueueWriter<T extends OperationTable = QueueWrites> {
  run<N extends OperationName<T>>(name: N, args: OperationArgs<T, N>): Promise<OperationResult<T, N>>;
  /** Waits for the writes already asked for, then lets go of the writer thread. */
  close(): Promise<void>;
}

/**
 * Where the writer thread finds the node's whole set of operations: a module that exports
 * it as `WRITES` (src/write-operations.ts). By URL, so this folder never imports the
 * folders above it whose writes it runs.
 */
export type WritesModule = URL;

/** Bounds one transaction's size, so no caller waits behind an unbounded batch. */
const MAX_BATCH = 512;

/**
 * The one batching loop, for the store's own connection: requests group-committed in
 * transactions of `store.db`, each answered alone (a failing one fails alone).
 */
export function batchWriter(set: WriteSet<OperationTable>, db: Kysely<Database>, engine: Engine): GroupCommit<WriteRequest, unknown> {
  const runRequests = requestRunner(set);
  return new GroupCommit<WriteRequest, unknown>(
    (batch): Promise<Array<Settled<unknown>>> => isolateFailures(batch, (requests) => db.transaction().execute((tx) => runRequests(tx, engine, requests))),
    MAX_BATCH,
  );
}

/** The writer for this store: the writer thread on SQLite, this thread on PostgreSQL. */
export function startQueueWriter<T extends OperationTable>(store: Store, databaseUrl: string, set: WriteSet<T>, module: WritesModule): Promise<QueueWriter<T>> {
  return store.engine === 'sqlite' ? startWriterThread(databaseUrl, set, module) : Promise.resolve(inThreadWriter(store, set));
}

/**
 * PostgreSQL (the set's `onPostgres`): 'single-statement': one write each (a webhook claim
 * reads its endpoints after), atomic by itself: no BEGIN and COMMIT around it, no wait behind
 * a batch. 'own-transaction': a transaction of its own, beside the batch, for locks on rows
 * every node shares.
 */
export function inThreadWriter<T extends OperationTable>(store: Store, set: WriteSet<T>): QueueWriter<T> {
  const whole = set as unknown as WriteSet<OperationTable>;
  const group = batchWriter(whole, store.db, store.engine);
  const runRequests = requestRunner(whole);
  const postgres = store.engine === 'postgres';
  return {
    run(name, args) {
      const work = (db: Kysely<Database>) => runRequests(db, store.engine, [{ name, args }]).then(([result]) => result as never);
      const own = postgres ? whole.onPostgres?.[name] : undefined;
      if (own === 'single-statement') return work(store.db);
      if (own === 'own-transaction') return store.db.transaction().execute(work);
      return group.submit({ name, args }) as Promise<never>;
    },
    close: () => group.drain(),
  };
}

export interface WriterRequest {
  seq: number;
  name: string;
  args: unknown;
}

export type WriterReply = { seq: number; result: unknown } | { seq: number; error: string };

/** SQLite: `set` must be the one `module` exports as WRITES (the thread runs that one; this side prepares arguments with it). */
export async function startWriterThread<T extends OperationTable>(databaseUrl: string, set: WriteSet<T>, module: WritesModule): Promise<QueueWriter<T>> {
  const forTransfer = (set.forTransfer ?? {}) as Record<string, ((args: unknown) => unknown) | undefined>;
  const worker = new Worker(new URL('./writer-thread.ts', import.meta.url), { workerData: { databaseUrl, writesModule: module.href }, name: 'mailroom-writer' });
  const waiting = new Map<number, { resolve: (result: never) => void; reject: (error: Error) => void }>();
  let seq = 0;
  let failure: Error | null = null;
  const failAll = (error: Error) => {
    failure ??= error;
    for (const pending of waiting.values()) pending.reject(error);
    waiting.clear();
  };
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', () => { worker.off('error', reject); resolve(); });
  });
  worker.on('message', (replies: WriterReply[]) => {
    for (const reply of replies) {
      const pending = waiting.get(reply.seq);
      if (!pending) continue;
      waiting.delete(reply.seq);
      if ('error' in reply) pending.reject(new Error(reply.error));
      else pending.resolve(reply.result as never);
    }
  });
  worker.on('error', (error) => failAll(error));
  worker.on('exit', (code) => failAll(new Error(`the queue writer thread exited (code ${code})`)));
  worker.unref();
  // Requests made in one turn of the event loop cross to the thread in one message: a
  // postMessage has a fixed cost (a copy, a wake-up of the thread) worth sharing.
  let outbox: WriterRequest[] = [];
  const send = () => {
    const requests = outbox;
    outbox = [];
    worker.postMessage(requests);
  };
  return {
    run(name, args) {
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        seq += 1;
        waiting.set(seq, { resolve, reject });
        if (outbox.push({ seq, name, args: forTransfer[name]?.(args) ?? args }) === 1) setImmediate(send);
      });
    },
    async close() {
      if (failure) return;
      // The thread answers what it was asked before it reads 'close', then exits.
      if (outbox.length > 0) send();
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.postMessage('close');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
      await worker.terminate();
      failAll(new Error('the queue writer is closed'));
    },
  };
}
