/**
 * Group commit: whatever is submitted while one batch is being committed goes
 * into the next batch together, so one commit (one fsync, one round trip)
 * serves many callers; when idle, an item goes alone at once. Each caller's
 * promise settles only after the commit holding its item.
 */
import type { Kysely } from 'kysely';
import type { Store } from './database.ts';
import type { Database } from './schema.ts';

interface Pending<In, Out> {
  item: In;
  resolve: (value: Out) => void;
  reject: (error: unknown) => void;
}

/** Runs items in batches through `commit`, which answers each item of a batch, in order. A batch that throws fails all its items. */
export class Batcher<In, Out> {
  readonly #commit: (items: In[]) => Promise<Out[]>;
  readonly #maxBatch: number;
  #pending: Array<Pending<In, Out>> = [];
  #flushing: Promise<void> | null = null;

  constructor(commit: (items: In[]) => Promise<Out[]>, maxBatch: number) {
    this.#commit = commit;
    this.#maxBatch = maxBatch;
  }

  submit(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      this.#flushing ??= this.#flushAll();
    });
  }

  /** Resolves once everything submitted so far is committed (or failed). */
  async drain(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  async #flushAll(): Promise<void> {
    // Yield once so items submitted in the same turn of the event loop share the first commit.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.#maxBatch);
      try {
        const results = await this.#commit(batch.map((pending) => pending.item));
        batch.forEach((pending, index) => pending.resolve(results[index]));
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
    this.#flushing = null;
  }
}

type Work = (tx: Kysely<Database>) => Promise<unknown>;

/**
 * Units of write work sharing transactions. A failing unit fails the whole
 * batch (its callers all see the error and may retry); units must not
 * swallow errors half-way.
 */
export class GroupCommit {
  readonly #batcher: Batcher<Work, unknown>;

  constructor(store: Store, maxBatch = 200) {
    this.#batcher = new Batcher((units) => store.db.transaction().execute(async (tx) => {
      const out: unknown[] = [];
      for (const unit of units) out.push(await unit(tx));
      return out;
    }), maxBatch);
  }

  run<T>(work: (tx: Kysely<Database>) => Promise<T>): Promise<T> {
    return this.#batcher.submit(work) as Promise<T>;
  }

  drain(): Promise<void> {
    return this.#batcher.drain();
  }
}
