/**
 * How many events happened in the last few seconds, in constant memory and time: one counter per
 * second in a ring, so counting every envelope of a busy site costs nothing noticeable.
 */
export class Pace {
  #counts: number[];
  #seconds: number[];

  constructor(seconds = 10) {
    this.#counts = new Array<number>(seconds).fill(0);
    this.#seconds = new Array<number>(seconds).fill(-1);
  }

  add(now: number): void {
    const second = Math.floor(now / 1000);
    const slot = second % this.#counts.length;
    if (this.#seconds[slot] !== second) {
      this.#seconds[slot] = second;
      this.#counts[slot] = 0;
    }
    this.#counts[slot]++;
  }

  /** Events in the last `windowMs` (whole seconds, the current one included). */
  count(now: number, windowMs: number): number {
    const current = Math.floor(now / 1000);
    const span = Math.min(this.#counts.length, Math.max(1, Math.ceil(windowMs / 1000)));
    let total = 0;
    for (let i = 0; i < this.#counts.length; i++) if (this.#seconds[i] > current - span && this.#seconds[i] <= current) total += this.#counts[i];
    return total;
  }
}
