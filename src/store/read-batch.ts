/**
 * Reads asked for in the same turn of the event loop, answered by one query:
 * the SMTP sessions of a busy node ask the same few questions (an account's
 * domains, its usage, whether a recipient is suppressed) many times a turn,
 * and on PostgreSQL each query is a round trip and a parse on the server.
 * The query is sent after the last of them was asked, so every answer is as
 * fresh as a read of its own.
 */
export class ReadBatch<K, V> {
  readonly #load: (keys: readonly K[]) => Promise<ReadonlyMap<string, V>>;
  readonly #keyOf: (key: K) => string;
  readonly #missing: V;
  #waiting = new Map<string, { key: K; callers: Array<{ resolve: (value: V) => void; reject: (error: unknown) => void }> }>();

  /** `load` answers the keys it found, by keyOf(key); the others get `missing`. */
  constructor(load: (keys: readonly K[]) => Promise<ReadonlyMap<string, V>>, keyOf: (key: K) => string, missing: V) {
    this.#load = load;
    this.#keyOf = keyOf;
    this.#missing = missing;
  }

  read(key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      if (this.#waiting.size === 0) setImmediate(() => this.#flush());
      const id = this.#keyOf(key);
      const entry = this.#waiting.get(id) ?? { key, callers: [] };
      entry.callers.push({ resolve, reject });
      this.#waiting.set(id, entry);
    });
  }

  #flush(): void {
    const waiting = this.#waiting;
    this.#waiting = new Map();
    this.#load([...waiting.values()].map((entry) => entry.key)).then((found) => {
      for (const [id, entry] of waiting) for (const caller of entry.callers) caller.resolve(found.get(id) ?? this.#missing);
    }, (error: unknown) => {
      for (const entry of waiting.values()) for (const caller of entry.callers) caller.reject(error);
    });
  }
}
