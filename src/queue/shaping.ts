/**
 * The arithmetic of adaptive shaping, as pure functions on one site's shared state, so the
 * rules are tested without a mail server or a clock.
 *
 * The values in the state are for the whole cluster; every delivery node applies its share
 * (`nodeLimits`). A site starts with no learnt rate and the configured connections per node
 * (MAILROOM_DESTINATION_CONCURRENCY). It is AIMD, as TCP does it:
 * - a throttling reply cuts the concurrency and the rate to 70% (the first one sets the rate
 *   from what the cluster was actually sending), at most once per cooldown: the replies to
 *   mail that was already on its way at the old rate must not cut it again and again;
 * - every stretch of deliveries without a throttling reply, at a pace that actually used the
 *   limit, adds one connection and a fixed step of rate (5% of the rate the last decrease
 *   left), so a site climbs back steadily and falls quickly;
 * - a block signal suspends the site for a while on top of the decrease;
 * - an operator's pin overrides the learnt value it names (suspensions still apply).
 */

export type ShapingChange = 'decreased' | 'increased' | 'suspended' | 'pinned';

export interface SiteShaping {
  site: string;
  /** Connections the cluster may hold to the site; null: MAILROOM_DESTINATION_CONCURRENCY per node. */
  concurrency: number | null;
  /** Messages per second for the cluster; null: nothing learnt, no limit. */
  rate: number | null;
  /** Rate added per increase: constant between two decreases (additive increase). */
  growStep: number;
  suspendedUntil: number | null;
  pinnedConcurrency: number | null;
  pinnedRate: number | null;
  lastChange: ShapingChange | null;
  changedAt: number;
  lastDecreaseAt: number | null;
  /** The remote reply that caused the last decrease or suspension, word for word. */
  reason: string | null;
  /** The shaping-rules.ts row that matched it. */
  reasonRule: string | null;
}

/** The lowest rate a decrease goes to: one message every five seconds still tells us when the site recovers. */
export const MIN_RATE = 0.2;
/** Gentler than TCP's half: a site's limit is steady, so less is lost below it between two decreases. */
export const DECREASE_FACTOR = 0.7;
/** The additive step, as a share of the rate the last decrease left: back to the old rate in about six steps. */
export const STEP_SHARE = 0.05;
/** ...but at least half a message per second, so a site cut very low does not take minutes to climb back. */
export const MIN_STEP = 0.5;
/** Replies arriving this soon after a decrease answer mail sent at the old pace: they do not decrease again. */
export const DECREASE_COOLDOWN_MS = 2000;
/** How long deliveries must go through without throttling before the limits grow by one step. */
export const INCREASE_AFTER_MS = 2000;

export function freshShaping(site: string, now: number): SiteShaping {
  return {
    site, concurrency: null, rate: null, growStep: 1, suspendedUntil: null, pinnedConcurrency: null, pinnedRate: null,
    lastChange: null, changedAt: now, lastDecreaseAt: null, reason: null, reasonRule: null,
  };
}

export interface DecreaseFacts {
  now: number;
  /** Messages per second the whole cluster was delivering to the site lately (this node's pace × nodes). */
  observedRate: number;
  /** Connections the cluster holds by default: MAILROOM_DESTINATION_CONCURRENCY × delivery nodes. */
  defaultConcurrency: number;
  reply: string;
  rule: string;
}

/** The state after a throttling reply, or null when it falls in the cooldown of the last decrease. */
export function decrease(state: SiteShaping, facts: DecreaseFacts): SiteShaping | null {
  if (state.lastDecreaseAt !== null && facts.now - state.lastDecreaseAt < DECREASE_COOLDOWN_MS) return null;
  const concurrency = state.concurrency ?? facts.defaultConcurrency;
  // What the site was really getting: a learnt rate far above the actual pace would take many halvings to matter.
  const pace = Math.max(facts.observedRate, MIN_RATE);
  const base = state.rate === null ? pace : Math.min(state.rate, Math.max(pace, state.rate * DECREASE_FACTOR));
  const rate = roundRate(Math.max(MIN_RATE, base * DECREASE_FACTOR));
  return {
    ...state,
    concurrency: Math.max(1, Math.floor(concurrency * DECREASE_FACTOR)),
    rate,
    growStep: roundRate(Math.max(MIN_STEP, rate * STEP_SHARE)),
    lastChange: 'decreased', changedAt: facts.now, lastDecreaseAt: facts.now, reason: facts.reply, reasonRule: facts.rule,
  };
}

/** The state after a block signal: decreased (ignoring the cooldown) and suspended until `now + forMs`. */
export function suspend(state: SiteShaping, facts: DecreaseFacts & { forMs: number }): SiteShaping {
  const decreased = decrease({ ...state, lastDecreaseAt: null }, facts)!;
  const until = Math.max(state.suspendedUntil ?? 0, facts.now + facts.forMs);
  return { ...decreased, suspendedUntil: until, lastChange: 'suspended' };
}

export interface IncreaseFacts {
  now: number;
  defaultConcurrency: number;
}

/**
 * The state after a stretch without throttling, or null when there is nothing to grow (nothing
 * learnt yet) or the last change is too recent.
 */
export function increase(state: SiteShaping, facts: IncreaseFacts): SiteShaping | null {
  if (state.rate === null && state.concurrency === null) return null;
  if (facts.now - state.changedAt < INCREASE_AFTER_MS) return null;
  const concurrency = state.concurrency === null || state.concurrency + 1 >= facts.defaultConcurrency ? null : state.concurrency + 1;
  const rate = state.rate === null ? null : roundRate(state.rate + state.growStep);
  return { ...state, concurrency, rate, lastChange: 'increased', changedAt: facts.now };
}

export interface NodeLimits {
  /** Connections this node may hold to the site. */
  concurrency: number;
  /** Messages per second this node may send to the site; null: no limit. */
  rate: number | null;
  /** Nothing is sent before this time; null: not suspended. */
  suspendedUntil: number | null;
}

/** This node's share of the site's limits, pins applied. */
export function nodeLimits(state: SiteShaping | undefined, facts: { nodes: number; defaultConcurrency: number; now: number }): NodeLimits {
  const nodes = Math.max(1, facts.nodes);
  if (!state) return { concurrency: facts.defaultConcurrency, rate: null, suspendedUntil: null };
  const clusterConcurrency = state.pinnedConcurrency ?? state.concurrency;
  const clusterRate = state.pinnedRate ?? state.rate;
  return {
    concurrency: clusterConcurrency === null ? facts.defaultConcurrency : Math.max(1, Math.floor(clusterConcurrency / nodes)),
    rate: clusterRate === null ? null : clusterRate / nodes,
    suspendedUntil: state.suspendedUntil !== null && state.suspendedUntil > facts.now ? state.suspendedUntil : null,
  };
}

function roundRate(rate: number): number {
  return Math.round(rate * 100) / 100;
}
