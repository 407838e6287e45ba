/**
 * Runs many small units of write work in shared transactions: whatever is
 * submitted while one commit is in progress goes into the next, so one fsync
 * serves many callers. Each caller's promise settles only after the commit
 * holding its work. A failing unit fails the whole batch (its callers all see
 * the error and may retry); units must not swallow errors half-way.
 */
import type { Kysely } from 'kysely';
import type { Store } from './database.ts';
import type { Database } from './schema.ts';

type Work = (tx: Kysely<Database>) => Promise<unknown>;

interface Pending {
  work: Work;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit {
  readonly #store: Store;
  readonly #maxBatch: number;
  #pending: Pending[] = [];
  #flushing: Promise<void> | null = null;

  constructor(store: Store, maxBatch = 200) {
    this.#store = store;
    this.#maxBatch = maxBatch;
  }

  run<T>(work: (tx: Kysely<Database>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.#flushing ??= this.#flushAll();
    });
  }

  async drain(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  async #flushAll(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.#maxBatch);
      try {
        const results = await this.#store.db.transaction().execute(async (tx) => {
          const out: unknown[] = [];
          for (const pending of batch) out.push(await pending.work(tx));
          return out;
        });
        batch.forEach((pending, index) => pending.resolve(results[index]));
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
    this.#flushing = null;
  }
}
