/**
 * The SQLite writer thread (a worker_threads entry point): see writer.ts.
 *
 * Requests that arrive while a transaction runs wait and go into the next
 * one together (batchWriter, the same loop as PostgreSQL's). Every caller is
 * answered only after the COMMIT (the fsync) that holds its writes; a request
 * that fails is answered with its own error alone.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../store/database.ts';
import { batchWriter, type WriterReply, type WriterRequest } from './writer.ts';
import type { OperationTable, WriteSet } from './write-set.ts';

// The node's whole set of operations, from the module the starter named (writer.ts: WritesModule).
const { WRITES } = await import(workerData.writesModule as string) as { WRITES: WriteSet<OperationTable> };
const store = await openStore(workerData.databaseUrl as string);
const group = batchWriter(WRITES, store.db, store.engine);
const port = parentPort!;
let replies: WriterReply[] = [];

port.on('message', (message: WriterRequest[] | 'close') => {
  if (message === 'close') {
    void group.drain().then(() => store.close()).finally(() => port.close());
    return;
  }
  for (const request of message) {
    group.submit({ name: request.name, args: request.args }).then(
      (result) => answer({ seq: request.seq, result }),
      (error: Error) => answer({ seq: request.seq, error: error?.message ?? String(error) }),
    );
  }
});
port.postMessage({ ready: true });

/** The answers of one commit cross back in one message: they settle in the same turn. */
function answer(reply: WriterReply): void {
  if (replies.push(reply) > 1) return;
  setImmediate(() => {
    const sent = replies;
    replies = [];
    port.postMessage(sent);
  });
}
