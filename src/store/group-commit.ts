/**
 * Group commit, the one batching loop of the process (the queue writer's, on
 * both engines: writer.ts): whatever is submitted while one batch is being
 * committed goes into the next batch together, so one commit (one fsync, one
 * round trip) serves many callers; when idle, an item goes alone at once.
 * Each caller's promise settles only after the commit holding its item.
 *
 * One failure rule: a batch that fails is committed again item by item, so
 * only the item that failed fails (isolateFailures); its batch-mates commit.
 */

/** One item's answer: its result, or the error that failed it alone. */
export type Settled<Out> = { ok: true; value: Out } | { ok: false; error: unknown };

interface Pending<In, Out> {
  item: In;
  resolve: (value: Out) => void;
  reject: (error: unknown) => void;
}

/** Runs items in batches through `commit`, which answers each item of a batch, in order. */
export class GroupCommit<In, Out> {
  readonly #commit: (items: In[]) => Promise<Array<Settled<Out>>>;
  readonly #maxBatch: number;
  #pending: Array<Pending<In, Out>> = [];
  #flushing: Promise<void> | null = null;

  constructor(commit: (items: In[]) => Promise<Array<Settled<Out>>>, maxBatch: number) {
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
      let answers: Array<Settled<Out>>;
      try {
        answers = await this.#commit(batch.map((pending) => pending.item));
      } catch (error) {
        answers = batch.map(() => ({ ok: false, error }));
      }
      batch.forEach((pending, index) => {
        const answer = answers[index] ?? { ok: false, error: new Error('the commit gave no answer for this item') };
        if (answer.ok) pending.resolve(answer.value);
        else pending.reject(answer.error);
      });
    }
    this.#flushing = null;
  }
}

/**
 * The failure rule: the items together (one transaction); if that fails, each
 * alone, in order, so a bad item takes down no other (rare: items are not
 * expected to fail, and a retry alone costs a transaction each).
 */
export async function isolateFailures<In, Out>(items: readonly In[], together: (items: readonly In[]) => Promise<Out[]>): Promise<Array<Settled<Out>>> {
  try {
    return (await together(items)).map((value) => ({ ok: true, value }));
  } catch (error) {
    if (items.length === 1) return [{ ok: false, error }];
    const answers: Array<Settled<Out>> = [];
    for (const item of items) {
      try {
        answers.push({ ok: true, value: (await together([item]))[0] });
      } catch (alone) {
        answers.push({ ok: false, error: alone });
      }
    }
    return answers;
  }
}
