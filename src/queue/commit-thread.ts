/**
 * The SQLite commit thread (a worker_threads entry point).
 *
 * node:sqlite is synchronous: a COMMIT with synchronous=FULL holds the thread
 * for the whole fsync. On the main thread that froze every SMTP session for
 * the duration, so a batch could only collect what arrived before it. Here,
 * with a connection of its own (WAL lets the main thread keep reading), the
 * commit thread fsyncs batch N while the main thread reads batch N+1 off the
 * sockets. Acknowledgements still wait for the commit that holds them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../store/database.ts';
import { commitSubmissions, type Submission } from './enqueue.ts';

interface Request {
  seq: number;
  submissions: Submission[];
  now: number;
}

const store = await openStore(workerData.databaseUrl as string);
const port = parentPort!;

port.on('message', (request: Request | 'close') => {
  if (request === 'close') {
    store.close().finally(() => port.close());
    return;
  }
  const submissions = request.submissions.map((s) => ({ ...s, raw: Buffer.from(s.raw.buffer, s.raw.byteOffset, s.raw.byteLength) }));
  store.db.transaction().execute((tx) => commitSubmissions(tx, store.engine, submissions, request.now)).then(
    (results) => port.postMessage({ seq: request.seq, results }),
    (error: Error) => port.postMessage({ seq: request.seq, error: error.message }),
  );
});
port.postMessage({ ready: true });
