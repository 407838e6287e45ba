/**
 * Writes that may wait a moment (a key's last use, the doctor's session log):
 * the first change of a burst starts a timer, and one write about `delayMs`
 * later carries the whole burst. Writes run one at a time, in order;
 * `stop()` writes what is left.
 */
export class DeferredFlush {
  readonly #write: () => Promise<void>;
  readonly #delayMs: number;
  #timer: NodeJS.Timeout | null = null;
  #chain: Promise<void> = Promise.resolve();

  constructor(write: () => Promise<void>, delayMs: number) {
    this.#write = write;
    this.#delayMs = delayMs;
  }

  /** Something changed: it is written within `delayMs`. */
  schedule(): void {
    // Unref'd: a pending write does not keep the process alive (stop() writes it on the way out).
    this.#timer ??= setTimeout(() => {
      this.#timer = null;
      void this.flush();
    }, this.#delayMs).unref();
  }

  /** Writes what is waiting; resolves once it is written (or given up by `write`). */
  flush(): Promise<void> {
    const run = this.#chain.then(() => this.#write());
    this.#chain = run;
    return run;
  }

  async stop(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.flush();
  }
}
