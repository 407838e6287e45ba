/**
 * When each secret key was last used, kept in memory and written in bulk
 * through the queue writer about once a second: a login never waits for a
 * commit (on SQLite, a commit on this thread would freeze every session for
 * an fsync). A crash loses at most the last second of "last used" times,
 * which only the keys page shows.
 */
import { DeferredFlush } from '../queue/deferred-flush.ts';
import type { QueueWriter } from '../queue/writer.ts';
import type { AccountWrites } from './account-writes.ts';
import type { KeyUse } from './keys.ts';
import type { Logger } from 'pino';

export interface KeyUseLogOptions {
  flushMs?: number;
}

export class KeyUseLog {
  readonly #writer: Pick<QueueWriter<AccountWrites>, 'run'>;
  readonly #logger: Logger;
  #pending = new Map<string, KeyUse>();
  readonly #flusher: DeferredFlush;

  constructor(writer: Pick<QueueWriter<AccountWrites>, 'run'>, logger: Logger, options: KeyUseLogOptions = {}) {
    this.#writer = writer;
    this.#logger = logger;
    this.#flusher = new DeferredFlush(() => this.#write(), options.flushMs ?? 1000);
  }

  used(keyId: string, at: number, ip: string | null): void {
    const known = this.#pending.get(keyId);
    if (!known || known.at <= at) this.#pending.set(keyId, { keyId, at, ip });
    this.#flusher.schedule();
  }

  /** Writes what is waiting; resolves once it is in the store (or given up). */
  flush(): Promise<void> {
    return this.#flusher.flush();
  }

  stop(): Promise<void> {
    return this.#flusher.stop();
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
