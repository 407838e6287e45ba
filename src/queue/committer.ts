/**
 * Where a group commit runs: in this thread's transaction (PostgreSQL, whose
 * commits wait on the network, not on this thread), or on the SQLite commit
 * thread (see commit-thread.ts).
 */
import { Worker } from 'node:worker_threads';
import type { Store } from '../store/database.ts';
import { commitSubmissions, type EnqueueResult, type Submission } from './enqueue.ts';

export interface Committer {
  commit(submissions: readonly Submission[], now: number): Promise<EnqueueResult[]>;
  close(): Promise<void>;
}

export function inThreadCommitter(store: Store): Committer {
  return {
    commit: (submissions, now) => store.db.transaction().execute((tx) => commitSubmissions(tx, store.engine, submissions, now)),
    close: async () => {},
  };
}

export async function commitThread(databaseUrl: string): Promise<Committer> {
  const worker = new Worker(new URL('./commit-thread.ts', import.meta.url), { workerData: { databaseUrl } });
  const waiting = new Map<number, { resolve: (r: EnqueueResult[]) => void; reject: (e: Error) => void }>();
  let seq = 0;
  let failure: Error | null = null;
  const failAll = (error: Error) => {
    failure = error;
    for (const pending of waiting.values()) pending.reject(error);
    waiting.clear();
  };
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', () => { worker.off('error', reject); resolve(); });
  });
  worker.on('message', (reply: { seq: number; results?: EnqueueResult[]; error?: string }) => {
    const pending = waiting.get(reply.seq);
    if (!pending) return;
    waiting.delete(reply.seq);
    if (reply.results) pending.resolve(reply.results);
    else pending.reject(new Error(reply.error ?? 'commit failed'));
  });
  worker.on('error', (error) => failAll(error));
  worker.on('exit', (code) => failAll(new Error(`the commit thread exited (code ${code})`)));
  worker.unref();
  return {
    commit(submissions, now) {
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        seq += 1;
        waiting.set(seq, { resolve, reject });
        worker.postMessage({ seq, submissions, now });
      });
    },
    async close() {
      if (failure) return;
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.postMessage('close');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
      await worker.terminate();
    },
  };
}
