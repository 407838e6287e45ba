/**
 * Messages this node has just accepted, kept in memory for the delivery
 * worker's first attempt, so the body it has in hand is not read back from
 * the store a few milliseconds later. Only the first attempt of a message
 * uses an entry (and removes it): retries, and mail accepted by other nodes,
 * are read from the store as always. Bounded in bytes and in age, so a node
 * whose mail other nodes deliver does not fill up.
 */
import type { CommittedMessage } from '../queue/enqueue.ts';

export interface FreshMessage {
  id: string;
  accountId: string | null;
  mailFrom: string;
  headerFrom: string;
  raw: Buffer;
  source: 'smtp' | 'api' | 'dsn';
  createdAt: number;
}

const MAX_BYTES = 64 * 1024 * 1024;
const MAX_AGE_MS = 30_000;

export class FreshMessages {
  #entries = new Map<string, FreshMessage>();
  #bytes = 0;

  remember(committed: readonly CommittedMessage[]): void {
    for (const { id, submission, committedAt } of committed) {
      const { accountId, mailFrom, headerFrom, raw, source } = submission;
      this.#entries.set(id, { id, accountId, mailFrom, headerFrom, raw, source, createdAt: committedAt });
      this.#bytes += raw.length;
    }
    this.#evict(Date.now());
  }

  /** The message, once: the caller signs it and keeps the signature in the store for later attempts. */
  take(id: string): FreshMessage | null {
    const entry = this.#entries.get(id);
    if (!entry) return null;
    this.#entries.delete(id);
    this.#bytes -= entry.raw.length;
    return entry;
  }

  #evict(now: number): void {
    // Map order is insertion order: the oldest entries come first.
    for (const entry of this.#entries.values()) {
      if (this.#bytes <= MAX_BYTES && now - entry.createdAt <= MAX_AGE_MS) break;
      this.#entries.delete(entry.id);
      this.#bytes -= entry.raw.length;
    }
  }
}
