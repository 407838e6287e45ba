/**
 * This node's side of adaptive shaping: it keeps the cluster's shaping state (site_shaping)
 * in memory, refreshed from the store every `syncMs`; gates every envelope through its site's
 * limits (site-gate.ts); reads every reply for throttling and block signals (shaping-rules.ts)
 * and writes a decrease or suspension at once, so the other nodes see it at their next
 * refresh; and, at each refresh, reports its statistics and asks for one step up for the
 * sites it delivered to without being throttled.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/database.ts';
import type { QueueWriter } from '../queue/writer.ts';
import type { Outcome } from '../queue/outcome.ts';
import type { Metrics } from '../events/metrics.ts';
import { SiteGate, type Admission } from './site-gate.ts';
import { siteSignalOf, type SiteSignal } from './shaping-rules.ts';
import { nodeLimits, DECREASE_COOLDOWN_MS, INCREASE_AFTER_MS, type NodeLimits } from '../queue/shaping.ts';
import { NO_STATS, deliveryNodeCount, readSites, type SiteRecord, type SiteStats } from '../queue/shaping-store.ts';
import { Pace } from './pace.ts';

export interface ShaperDeps {
  store: Store;
  writer: QueueWriter;
  logger: Logger;
  /** Per-node counters of throttling replies and held-back deliveries. */
  metrics?: Pick<Metrics, 'siteThrottled' | 'siteHeldBack'>;
  /** MAILROOM_DESTINATION_CONCURRENCY: a site's connections per node before anything was learnt. */
  defaultConcurrency: number;
  syncMs?: number;
  maxWaitMs?: number;
}

/** How far back this node's pace to a site is measured, for the first decrease. */
const PACE_WINDOW_MS = 5000;
/** A held-back delivery comes back no sooner than this. */
const MIN_HOLD_MS = 500;

interface Local {
  stats: SiteStats;
  domains: Set<string>;
  /** Envelopes that reached the site lately (this node), for its pace. */
  sent: Pace;
  /** When this node first reached the site: a pace over a shorter time than the window is over that time. */
  firstSentAt: number | null;
  /** The last throttling signal this node saw, and whether a write for one is on its way. */
  lastSignalAt: number;
  signalling: boolean;
}

export class Shaper {
  readonly gate: SiteGate;
  #deps: ShaperDeps;
  #state = new Map<string, SiteRecord>();
  #local = new Map<string, Local>();
  #nodes = 1;
  #timer: NodeJS.Timeout | null = null;
  #syncing: Promise<void> | null = null;

  constructor(deps: ShaperDeps) {
    this.#deps = deps;
    this.gate = new SiteGate({ maxWaitMs: deps.maxWaitMs });
  }

  /** Reads the shared state now, then every `syncMs`. */
  async start(): Promise<void> {
    await this.sync();
    this.#timer = setInterval(() => void this.sync(), this.#deps.syncMs ?? 1000);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#syncing;
    await this.#report(Date.now()).catch(() => {});
  }

  /** This node's share of `site`'s limits right now. */
  limits(site: string): NodeLimits {
    return nodeLimits(this.#state.get(site), { nodes: this.#nodes, defaultConcurrency: this.#deps.defaultConcurrency, now: Date.now() });
  }

  admit(site: string, ids: readonly string[]): Promise<Admission> {
    return this.gate.admit(site, () => this.limits(site), ids);
  }

  /** When deliveries turned away by a throttling reply may be tried again. */
  holdUntil(site: string, ids: readonly string[]): number {
    return this.gate.reserve(site, this.limits(site), ids, MIN_HOLD_MS);
  }

  /** What the reply of an outcome says about its site, if anything. */
  signalOf(outcome: Outcome): SiteSignal | null {
    return outcome.kind === 'delivered' ? null : siteSignalOf(outcome.reply);
  }

  /** Counts deliveries held back before they were sent. */
  heldBack(site: string, count: number): void {
    this.#localOf(site).stats.held += count;
    this.#deps.metrics?.siteHeldBack.inc({ site }, count);
  }

  /**
   * Learns from one envelope's outcomes at `site`: statistics, its pace, and — on a throttling
   * or block signal — a decrease or suspension written to the store for every node.
   */
  observe(site: string, domain: string, outcomes: Iterable<Outcome>, heldAfterReply: number): void {
    const now = Date.now();
    const local = this.#localOf(site);
    local.domains.add(domain);
    local.stats.held += heldAfterReply;
    if (heldAfterReply > 0) this.#deps.metrics?.siteHeldBack.inc({ site }, heldAfterReply);
    let signal: { signal: SiteSignal; reply: string } | null = null;
    let reachedSite = false;
    for (const outcome of outcomes) {
      if (outcome.ip !== null) reachedSite = true;
      const found = this.signalOf(outcome);
      if (found) {
        local.stats.throttled++;
        this.#deps.metrics?.siteThrottled.inc({ site });
        signal ??= { signal: found, reply: outcome.reply };
      } else if (outcome.kind === 'delivered') local.stats.delivered++;
      else if (outcome.kind === 'deferred') local.stats.deferred++;
      else local.stats.bounced++;
    }
    if (reachedSite) {
      local.sent.add(now);
      local.firstSentAt ??= now;
    }
    if (signal) {
      local.lastSignalAt = now;
      this.#signal(site, signal.signal, signal.reply, now);
    }
  }

  /** The shared state as this node last read it. */
  sites(): SiteRecord[] {
    return [...this.#state.values()];
  }

  /** Refreshes the shared state and the number of delivery nodes, reports statistics, asks for increases. */
  sync(): Promise<void> {
    this.#syncing ??= this.#sync().catch((error) => {
      this.#deps.logger.warn({ err: error, event: 'shaping.sync_failed' }, 'could not refresh the shared shaping state');
    }).finally(() => { this.#syncing = null; });
    return this.#syncing;
  }

  async #sync(): Promise<void> {
    const now = Date.now();
    const { db } = this.#deps.store;
    const [sites, nodes] = await Promise.all([readSites(db), deliveryNodeCount(db, now)]);
    this.#state = new Map(sites.map((s) => [s.site, s]));
    this.#nodes = nodes;
    await this.#report(now);
    await this.#increase(now);
  }

  async #report(now: number): Promise<void> {
    const sites = [];
    for (const [site, local] of this.#local) {
      const { stats } = local;
      if (stats.delivered + stats.deferred + stats.bounced + stats.throttled + stats.held === 0 && local.domains.size === 0) continue;
      sites.push({ site, ...stats, domains: [...local.domains] });
      local.stats = { ...NO_STATS };
      local.domains = new Set();
    }
    if (sites.length > 0) await this.#deps.writer.run('siteStats', { now, sites });
  }

  /**
   * One step up for a site whose limits this node has been using without a throttling reply
   * since the last change. "Using": it sent at least half its share of the rate, so a quiet
   * site does not climb to a rate it never proved it can take.
   */
  async #increase(now: number): Promise<void> {
    for (const [site, state] of this.#state) {
      if (state.rate === null && state.concurrency === null) continue;
      if (now - state.changedAt < INCREASE_AFTER_MS) continue;
      const local = this.#local.get(site);
      // Replies to mail sent before the last change may still come back throttled: only a quiet stretch counts.
      if (!local || now - local.lastSignalAt < INCREASE_AFTER_MS) continue;
      const share = this.limits(site);
      // Over the last full seconds and the current one: at least half of what the rate allowed in that time.
      const recent = local.sent.count(now, INCREASE_AFTER_MS + 1000);
      const expected = share.rate === null ? 1 : Math.max(1, (share.rate * INCREASE_AFTER_MS) / 1000 / 2);
      if (recent < expected) continue;
      const applied = await this.#deps.writer.run('siteIncrease', {
        site, seenChangedAt: state.changedAt, now, defaultConcurrency: this.#deps.defaultConcurrency * this.#nodes,
      });
      if (applied) this.#deps.logger.info({ event: 'shaping.increased', site }, `site ${site}: limits increased`);
    }
  }

  #signal(site: string, signal: SiteSignal, reply: string, now: number): void {
    const local = this.#localOf(site);
    const known = this.#state.get(site);
    // Already decreased lately (by any node) or a write on its way: a throttle adds nothing. A suspension always goes.
    if (signal.signal === 'throttle' && (local.signalling || (known?.lastDecreaseAt != null && now - known.lastDecreaseAt < DECREASE_COOLDOWN_MS))) return;
    local.signalling = true;
    const seconds = Math.max(1000, Math.min(PACE_WINDOW_MS, now - (local.firstSentAt ?? now))) / 1000;
    const pace = (local.sent.count(now, PACE_WINDOW_MS) / seconds) * this.#nodes;
    this.#deps.writer.run('siteSignal', {
      site, signal: signal.signal, suspendMs: signal.suspendMs, now, observedRate: pace,
      defaultConcurrency: this.#deps.defaultConcurrency * this.#nodes, reply, rule: signal.rule,
    }).then((state) => {
      this.#state.set(site, state);
      this.#deps.logger.warn({
        event: `shaping.${state.lastChange}`, site, concurrency: state.concurrency, rate: state.rate, suspendedUntil: state.suspendedUntil, reply,
      }, `site ${site} asked for less: ${state.concurrency ?? 'default'} connections, ${state.rate ?? 'no limit'} msg/s`);
    }).catch((error) => {
      this.#deps.logger.warn({ err: error, event: 'shaping.signal_failed', site }, 'could not record a throttling signal');
    }).finally(() => { local.signalling = false; });
  }

  #localOf(site: string): Local {
    let local = this.#local.get(site);
    if (!local) {
      local = { stats: { ...NO_STATS }, domains: new Set(), sent: new Pace(), firstSentAt: null, lastSignalAt: 0, signalling: false };
      this.#local.set(site, local);
    }
    return local;
  }
}
