/**
 * Keeps SMTP sessions open for a few seconds after use and hands them to the next envelope
 * for the same destination (ip:port), and caps how many sessions one destination gets at once.
 *
 * Why: a connection costs a TCP handshake, a greeting, EHLO, STARTTLS and EHLO again — often
 * longer than the message itself — and receivers like Gmail and Outlook rate connections
 * per IP, so a burst of mail to one domain should reuse a few sessions, not open hundreds.
 * The pool knows nothing of SMTP: it holds anything that can say whether it is still usable
 * and close itself, so its rules are tested here and not through a mail server.
 */

export interface Poolable {
  /** False once the peer hung up or the session broke; such a session is never handed out. */
  readonly usable: boolean;
  close(): void;
}

export interface Lease<T extends Poolable> {
  session: T;
  /** True when the session served an earlier envelope. */
  reused: boolean;
  /** Gives the session back: kept for reuse when `reusable` and still usable, closed otherwise. */
  release(reusable: boolean): void;
}

export interface PoolOptions {
  /** Sessions (busy or idle) per destination at most. */
  maxPerDestination?: number;
  /** How long an idle session is kept for the next envelope. */
  idleMs?: number;
  /** Envelopes per session before it is retired, so no session lives for ever. */
  maxUsesPerSession?: number;
}

interface Idle<T> { session: T; uses: number; timer: NodeJS.Timeout }
interface Destination<T> {
  open: number; // busy + idle + being opened
  idle: Idle<T>[];
  waiters: Array<() => void>;
}

export class ConnectionPool<T extends Poolable> {
  readonly maxPerDestination: number;
  readonly idleMs: number;
  readonly maxUsesPerSession: number;
  #destinations = new Map<string, Destination<T>>();
  #closed = false;

  constructor(options: PoolOptions = {}) {
    this.maxPerDestination = options.maxPerDestination ?? 5;
    this.idleMs = options.idleMs ?? 5000;
    this.maxUsesPerSession = options.maxUsesPerSession ?? 100;
  }

  /**
   * A session for `key`: an idle one if there is one, a new one from `open` if the destination
   * is under its limit, otherwise the next one given back (waiting in line for it).
   */
  async acquire(key: string, open: () => Promise<T>): Promise<Lease<T>> {
    if (this.#closed) throw new Error('connection pool is closed');
    for (;;) {
      const dest = this.#destination(key);
      const idle = dest.idle.pop();
      if (idle) {
        clearTimeout(idle.timer);
        if (idle.session.usable) return this.#lease(key, idle.session, idle.uses, true);
        this.#discard(key, idle.session);
        continue;
      }
      if (dest.open < this.maxPerDestination) {
        dest.open++;
        break;
      }
      await new Promise<void>((wake) => dest.waiters.push(wake));
      if (this.#closed) throw new Error('connection pool is closed');
    }
    try {
      return this.#lease(key, await open(), 0, false);
    } catch (err) {
      this.#freeSlot(key);
      throw err;
    }
  }

  /** Closes every idle session; busy ones are closed as they are released. */
  close(): void {
    this.#closed = true;
    for (const [key, dest] of this.#destinations) {
      for (const idle of dest.idle.splice(0)) {
        clearTimeout(idle.timer);
        this.#discard(key, idle.session);
      }
      for (const wake of dest.waiters.splice(0)) wake();
    }
  }

  /** Sessions open (busy or idle) for a destination, for tests and metrics. */
  openCount(key: string): number {
    return this.#destinations.get(key)?.open ?? 0;
  }

  #lease(key: string, session: T, uses: number, reused: boolean): Lease<T> {
    let released = false;
    return {
      session,
      reused,
      release: (reusable) => {
        if (released) return;
        released = true;
        const dest = this.#destination(key);
        if (!reusable || !session.usable || this.#closed || uses + 1 >= this.maxUsesPerSession) {
          this.#discard(key, session);
          return;
        }
        const idle: Idle<T> = { session, uses: uses + 1, timer: setTimeout(() => this.#expire(key, idle), this.idleMs) };
        idle.timer.unref();
        dest.idle.push(idle);
        dest.waiters.shift()?.();
      },
    };
  }

  #expire(key: string, idle: Idle<T>): void {
    const dest = this.#destinations.get(key);
    const at = dest?.idle.indexOf(idle) ?? -1;
    if (!dest || at < 0) return;
    dest.idle.splice(at, 1);
    this.#discard(key, idle.session);
  }

  #discard(key: string, session: T): void {
    try {
      session.close();
    } finally {
      this.#freeSlot(key);
    }
  }

  #freeSlot(key: string): void {
    const dest = this.#destinations.get(key);
    if (!dest) return;
    dest.open--;
    const wake = dest.waiters.shift();
    if (wake) wake();
    else if (dest.open === 0) this.#destinations.delete(key);
  }

  #destination(key: string): Destination<T> {
    let dest = this.#destinations.get(key);
    if (!dest) {
      dest = { open: 0, idle: [], waiters: [] };
      this.#destinations.set(key, dest);
    }
    return dest;
  }
}
