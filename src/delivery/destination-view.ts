/**
 * A site as people see it (API, CLI, dashboard): the limits in force for the whole cluster
 * and where they come from (learnt, pinned, or the default), why they last changed, and what
 * the site did with our mail.
 */
import type { SiteRecord } from '../queue/shaping-store.ts';

export interface DestinationView {
  site: string;
  /** A sample of the recipient domains seen on the site. */
  domains: string[];
  /** Connections the cluster may hold to the site now. */
  concurrency: number;
  /** Messages per second the cluster may send now; null: no limit. */
  rate: number | null;
  /** What adaptive shaping learnt (null: nothing, the default applies). */
  learnt: { concurrency: number | null; rate: number | null };
  /** An operator's override (null: none). */
  pinned: { concurrency: number | null; rate: number | null };
  /** Nothing is sent to the site before this time (ISO 8601); null: not suspended. */
  suspendedUntil: string | null;
  /** The last change and the remote reply that caused the last decrease or suspension. */
  lastChange: { kind: string; at: string; reply: string | null; rule: string | null } | null;
  stats: { delivered: number; deferred: number; bounced: number; throttled: number; heldBack: number };
  /** Delivery nodes sharing the limits (each applies its share). */
  deliveryNodes: number;
}

export function destinationView(site: SiteRecord, facts: { nodes: number; defaultConcurrency: number; now: number }): DestinationView {
  const learntConcurrency = site.concurrency;
  return {
    site: site.site,
    domains: site.domains,
    concurrency: site.pinnedConcurrency ?? learntConcurrency ?? facts.defaultConcurrency * facts.nodes,
    rate: site.pinnedRate ?? site.rate,
    learnt: { concurrency: learntConcurrency, rate: site.rate },
    pinned: { concurrency: site.pinnedConcurrency, rate: site.pinnedRate },
    suspendedUntil: site.suspendedUntil !== null && site.suspendedUntil > facts.now ? new Date(site.suspendedUntil).toISOString() : null,
    lastChange: site.lastChange === null ? null : { kind: site.lastChange, at: new Date(site.changedAt).toISOString(), reply: site.reason, rule: site.reasonRule },
    stats: { delivered: site.delivered, deferred: site.deferred, bounced: site.bounced, throttled: site.throttled, heldBack: site.held },
    deliveryNodes: facts.nodes,
  };
}
