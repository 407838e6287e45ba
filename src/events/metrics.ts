/**
 * Prometheus metrics of this node. Counters are per process (Prometheus sums
 * nodes); the queue depth is read from the shared store at scrape time.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Big mailbox providers get their own label so their deferrals stand out; everyone else is "other". */
export function domainClass(domain: string): string {
  const d = domain.toLowerCase();
  if (/(^|\.)(gmail\.com|googlemail\.com)$/.test(d)) return 'gmail';
  if (/(^|\.)(outlook\.com|hotmail\.com|live\.com|msn\.com)$/.test(d)) return 'microsoft';
  if (/(^|\.)(yahoo\.[a-z.]+|aol\.com|ymail\.com)$/.test(d)) return 'yahoo';
  if (/(^|\.)(icloud\.com|me\.com|mac\.com)$/.test(d)) return 'apple';
  return 'other';
}

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const labelNames = ['domain_class'] as const;
  return {
    registry,
    accepted: new Counter({ name: 'mailroom_messages_accepted_total', help: 'Recipients accepted for delivery', labelNames, registers: [registry] }),
    delivered: new Counter({ name: 'mailroom_deliveries_delivered_total', help: 'Recipients delivered', labelNames, registers: [registry] }),
    deferred: new Counter({ name: 'mailroom_deliveries_deferred_total', help: 'Delivery attempts deferred', labelNames, registers: [registry] }),
    bounced: new Counter({ name: 'mailroom_deliveries_bounced_total', help: 'Recipients bounced', labelNames, registers: [registry] }),
    deliveryLatency: new Histogram({
      name: 'mailroom_delivery_latency_seconds', help: 'From acceptance to delivery',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 14400, 86400], registers: [registry],
    }),
    smtpSessions: new Counter({ name: 'mailroom_smtp_sessions_total', help: 'SMTP sessions opened', labelNames: ['listener'] as const, registers: [registry] }),
    authFailures: new Counter({ name: 'mailroom_smtp_auth_failures_total', help: 'Failed SMTP logins', registers: [registry] }),
    diskFreeBytes: new Gauge({ name: 'mailroom_disk_free_bytes', help: 'Free space where this node writes (data directory, SQLite file)', registers: [registry] }),
    diskSpaceLow: new Gauge({ name: 'mailroom_disk_space_low', help: '1 while free space is below MAILROOM_MIN_FREE_SPACE and new mail is refused', registers: [registry] }),
    queueDepth: new Gauge({ name: 'mailroom_queue_depth', help: 'Deliveries waiting (queued or deferred)', registers: [registry] }),
    // Adaptive shaping (delivery/shaper.ts). Gauges come from the shared store at scrape time, and
    // only for sites whose limits differ from the default, so a long tail of small sites adds no series.
    siteConcurrency: new Gauge({ name: 'mailroom_site_concurrency', help: 'Connections the cluster may hold to a shaped site', labelNames: ['site'] as const, registers: [registry] }),
    siteRate: new Gauge({ name: 'mailroom_site_rate', help: 'Messages per second the cluster may send to a shaped site', labelNames: ['site'] as const, registers: [registry] }),
    siteSuspended: new Gauge({ name: 'mailroom_site_suspended', help: '1 while a site is suspended after a block signal', labelNames: ['site'] as const, registers: [registry] }),
    siteThrottled: new Counter({ name: 'mailroom_site_throttled_total', help: 'Replies that asked this node for less (throttling or block signals)', labelNames: ['site'] as const, registers: [registry] }),
    siteHeldBack: new Counter({ name: 'mailroom_site_held_back_total', help: 'Deliveries this node held back for their site (not attempts)', labelNames: ['site'] as const, registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
