/**
 * This node's gate in front of each site: at most `concurrency` envelopes at once, and
 * envelopes spaced `1/rate` seconds apart, by the limits shaping gives this node.
 *
 * A short wait is taken in memory (the lease is kept alive meanwhile). A longer one — the site
 * is suspended, or its rate has a queue of more than `maxWaitMs` in front of the envelope — is
 * not waited out here: the caller gives the deliveries back to the queue until the slot
 * reserved for them (`hold`), so a slow site never fills the worker's slots while other sites
 * wait. The reservation is remembered by delivery id, so when they come back they take the
 * slot they were given instead of queueing again at the end.
 *
 * Slots are reserved only `horizonMs` ahead. Beyond that, deliveries are held for a random
 * while (one to two horizons) without a slot: a reservation made at today's rate would keep a
 * backlog at that pace long after the site accepted more.
 */
import type { NodeLimits } from '../queue/shaping.ts';

export type Admission =
  | { kind: 'go'; release(): void }
  | { kind: 'hold'; until: number; why: 'suspended' | 'rate' };

interface SiteState {
  active: number;
  waiters: Array<() => void>;
  /** When the next envelope may start, at the current rate. */
  nextSlotAt: number;
  /** The rate the reservations were made at: when it falls, they are void (they would keep the old pace). */
  rate: number | null;
  /** Slots reserved for held-back deliveries, by delivery id. */
  reservations: Map<string, number>;
}

/** A reservation older than this is forgotten (the delivery went to another node, or expired). */
const RESERVATION_TTL_MS = 10 * 60_000;

export class SiteGate {
  readonly maxWaitMs: number;
  readonly horizonMs: number;
  #now: () => number;
  #sites = new Map<string, SiteState>();

  constructor(options: { maxWaitMs?: number; horizonMs?: number; now?: () => number } = {}) {
    this.maxWaitMs = options.maxWaitMs ?? 2000;
    this.horizonMs = options.horizonMs ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** Waits (briefly) for a turn at `site`, or says until when to hold the deliveries back. */
  async admit(site: string, limits: () => NodeLimits, ids: readonly string[]): Promise<Admission> {
    const now = this.#now();
    const current = limits();
    if (current.suspendedUntil !== null) {
      // Spread over a second, so the site is not met by the whole backlog at the same instant.
      return { kind: 'hold', until: current.suspendedUntil + Math.floor(Math.random() * 1000), why: 'suspended' };
    }
    const state = this.#site(site, current.rate, now);
    if (current.rate !== null) {
      const reserved = this.#takeReservation(state, ids);
      let slotAt: number;
      if (reserved !== null && reserved <= now + this.maxWaitMs) {
        slotAt = Math.max(now, reserved);
      } else {
        slotAt = Math.max(now, state.nextSlotAt);
        if (slotAt - now > this.horizonMs) {
          return { kind: 'hold', until: Math.ceil(now + this.horizonMs * (1 + Math.random())), why: 'rate' };
        }
        state.nextSlotAt = slotAt + 1000 / current.rate;
        if (slotAt - now > this.maxWaitMs) {
          for (const id of ids) state.reservations.set(id, slotAt);
          return { kind: 'hold', until: Math.ceil(slotAt), why: 'rate' };
        }
      }
      if (slotAt > now) await sleep(slotAt - now);
    } else {
      state.nextSlotAt = now;
    }
    while (state.active >= limits().concurrency) await new Promise<void>((wake) => state.waiters.push(wake));
    state.active++;
    let released = false;
    return {
      kind: 'go',
      release: () => {
        if (released) return;
        released = true;
        state.active--;
        state.waiters.shift()?.();
      },
    };
  }

  /**
   * A slot for deliveries the site turned away just now (a throttling reply), at the rate in
   * force; never sooner than `minDelayMs`. They take it when they come back.
   */
  reserve(site: string, limits: NodeLimits, ids: readonly string[], minDelayMs: number): number {
    const now = this.#now();
    if (limits.suspendedUntil !== null) return limits.suspendedUntil + Math.floor(Math.random() * 1000);
    const state = this.#site(site, limits.rate, now);
    let slotAt = now + minDelayMs;
    if (limits.rate !== null) {
      slotAt = Math.max(slotAt, state.nextSlotAt);
      state.nextSlotAt = slotAt + 1000 / limits.rate;
      for (const id of ids) state.reservations.set(id, slotAt);
    }
    // Whole milliseconds: the store keeps times as integers.
    return Math.ceil(slotAt);
  }

  /** Envelopes this node has in flight to `site`. */
  active(site: string): number {
    return this.#sites.get(site)?.active ?? 0;
  }

  #takeReservation(state: SiteState, ids: readonly string[]): number | null {
    let earliest: number | null = null;
    for (const id of ids) {
      const at = state.reservations.get(id);
      if (at === undefined) continue;
      state.reservations.delete(id);
      earliest = earliest === null ? at : Math.min(earliest, at);
    }
    if (state.reservations.size > 10_000) {
      const cutoff = this.#now() - RESERVATION_TTL_MS;
      for (const [id, at] of state.reservations) if (at < cutoff) state.reservations.delete(id);
    }
    return earliest;
  }

  /** The site's state; a lower rate than its reservations were made at voids them and the schedule. */
  #site(site: string, rate: number | null, now: number): SiteState {
    let state = this.#sites.get(site);
    if (!state) {
      state = { active: 0, waiters: [], nextSlotAt: 0, rate, reservations: new Map() };
      this.#sites.set(site, state);
    }
    if (rate !== null && (state.rate === null || rate < state.rate)) {
      state.reservations.clear();
      state.nextSlotAt = Math.min(state.nextSlotAt, now);
    }
    state.rate = rate;
    return state;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
