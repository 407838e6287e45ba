/**
 * When each secret key was last used, kept in memory and written in bulk
 * through the queue writer about once a second: a login never waits for a
 * commit (on SQLite, a commit on this thread would freeze every session for
 * an fsync). A crash loses at most the last second of "last used" times,
 * which only the keys page shows.
 */
import type { QueueWriter } from '../queue/writer.ts';
import type { KeyUse } from './keys.ts';
import type { Logger } from 'pino';

export interface KeyUseLogOptions {
  flushMs?: number;
}

export class KeyUseLog {
  readonly #writer: Pick<QueueWriter, 'run'>;
  readonly #logger: Logger;
  readonly #flushMs: number;
  #pending = new Map<string, KeyUse>();
  #timer: NodeJS.Timeout | null = null;
  #chain: Promise<void> = Promise.resolve();

  constructor(writer: Pick<QueueWriter, 'run'>, logger: Logger, options: KeyUseLogOptions = {}) {
    this.#writer = writer;
    this.#logger = logger;
    this.#flushMs = options.flushMs ?? 1000;
  }

  used(keyId: string, at: number, ip: string | null): void {
    const known = this.#pending.get(keyId);
    if (!known || known.at <= at) this.#pending.set(keyId, { keyId, at, ip });
    this.#timer ??= setTimeout(() => {
      this.#timer = null;
      void this.flush();
    }, this.#flushMs).unref();
  }

  /** Writes what is waiting; resolves once it is in the store (or given up). */
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

  async #write(): Promise<void> {
    if (this.#pending.size === 0) return;
    const uses = [...this.#pending.values()];
    this.#pending = new Map();
    try {
      await this.#writer.run('touchSecretKeys', { uses });
    } catch (error) {
      this.#logger.warn({ err: error, event: 'keys.last_used_dropped', keys: uses.length }, `could not record the last use of ${uses.length} secret keys`);
    }
  }
}
