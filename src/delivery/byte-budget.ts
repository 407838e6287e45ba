/**
 * A bound on the message bytes a node's attempts hold in memory at once. The count of
 * deliveries in flight (MAILROOM_DELIVERY_CONCURRENCY) alone would let a few hundred large
 * messages take gigabytes; with this, many small ones go at once and large ones take turns.
 * One message larger than the whole budget still goes, alone.
 */
export class ByteBudget {
  readonly #limit: number;
  #held = 0;
  #waiting: Array<{ bytes: number; grant: () => void }> = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  async acquire(bytes: number): Promise<void> {
    if (this.#waiting.length === 0 && this.#fits(bytes)) {
      this.#held += bytes;
      return;
    }
    await new Promise<void>((grant) => this.#waiting.push({ bytes, grant }));
  }

  release(bytes: number): void {
    this.#held -= bytes;
    // In order: a large message waiting is not overtaken for ever by small ones.
    while (this.#waiting.length > 0 && this.#fits(this.#waiting[0].bytes)) {
      const next = this.#waiting.shift()!;
      this.#held += next.bytes;
      next.grant();
    }
  }

  get held(): number {
    return this.#held;
  }

  #fits(bytes: number): boolean {
    return this.#held === 0 || this.#held + bytes <= this.#limit;
  }
}
