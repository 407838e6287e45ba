/**
 * The delivery worker of a node: takes due deliveries with a lease, groups
 * the recipients of one message on one domain into one SMTP transaction,
 * attempts them, and records the outcomes (group-committed). It keeps its
 * leases alive while attempts run, and on stop finishes or gives back what
 * it holds.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/options.ts';
import type { Store } from '../store/database.ts';
import type { DnsResolver } from '../dns/resolver.ts';
import type { ClaimedDelivery } from '../queue/claim-deliveries.ts';
import type { QueueWriter } from '../queue/writer.ts';
import type { Metrics } from '../events/metrics.ts';
import { domainClass } from '../events/metrics.ts';
import { ConnectionPool } from './connection-pool.ts';
import type { SmtpSession, SessionTimeouts } from './smtp-client.ts';
import { resolveRoute } from './route.ts';
import { sendEnvelope } from './send.ts';
import { envelopeSender, prepareMessage } from './prepare.ts';
import { FreshMessages } from './fresh-messages.ts';
import { SigningDomains } from './signing-domains.ts';
import { ByteBudget } from './byte-budget.ts';
import type { CommittedMessage } from '../queue/enqueue.ts';
import type { Signer } from '../signing/signing-pool.ts';
import type { Outcome } from '../queue/outcome.ts';
import { siteOf } from './sites.ts';
import { Shaper } from './shaper.ts';
import { hasExpired } from '../queue/retry.ts';
import type { MtaStsPolicies } from './mta-sts.ts';

export interface WorkerDeps {
  config: Config;
  /** Reads (the message, the signing key) go to the store... */
  store: Store;
  /** ...and every queue write (claims, leases, outcomes) to the queue writer. */
  writer: QueueWriter;
  resolver: DnsResolver;
  logger: Logger;
  metrics: Metrics;
  nodeId: string;
  verpSecret: string;
  /** DKIM signing (a pool of signing threads in production). */
  sign?: Signer;
  /** Shorter SMTP timeouts for tests. */
  timeouts?: Partial<SessionTimeouts>;
  /** Recipient domains' MTA-STS policies (RFC 8461). */
  mtaSts?: MtaStsPolicies | null;
  /** Trusted roots for MX certificates; undefined: system CAs plus NODE_EXTRA_CA_CERTS. Tests add their CA. */
  tlsCa?: string[];
  /** How often to look for due work when nothing wakes the worker. */
  pollMs?: number;
  /**
   * false: no site gate and nothing learnt from replies. Only the benchmark sets it (`shaping-cost`),
   * to measure what adaptive shaping costs against the same pipeline without it.
   */
  shaping?: boolean;
}

export interface DeliveryWorker {
  /** The node's side of adaptive shaping (read by tests and the bench). */
  readonly shaper: Shaper;
  /** Look for work now (new mail was queued). */
  wake(): void;
  /** This node just queued these: keep them for their first attempt, and look for work. */
  accepted(messages: readonly CommittedMessage[]): void;
  stop(): Promise<void>;
}

/** Message bytes a node's attempts hold at once (see byte-budget.ts): about twice that in memory, with the signed copies. */
const IN_FLIGHT_MESSAGE_BYTES = 128 * 1024 * 1024;

/** Tries at writing one attempt's outcome, 200 ms, 400 ms, 800 ms, 1.6 s apart; the heartbeat keeps the lease meanwhile. */
const RECORD_ATTEMPTS = 5;

interface Group {
  messageId: string;
  domain: string;
  deliveries: ClaimedDelivery[];
}

export function startDeliveryWorker(deps: WorkerDeps): DeliveryWorker {
  const { config, store, writer, logger, metrics, nodeId } = deps;
  const pool = new ConnectionPool<SmtpSession>({ maxPerDestination: config.destinationConcurrency });
  const fresh = new FreshMessages();
  const domains = new SigningDomains(store);
  const budget = new ByteBudget(IN_FLIGHT_MESSAGE_BYTES);
  const shaper = new Shaper({ store, writer, logger, metrics, defaultConcurrency: config.destinationConcurrency });
  const held = new Set<string>();
  const inFlight = new Set<Promise<void>>();
  let stopping = false;
  let wakeUp: (() => void) | null = null;
  let pendingWake = false;

  const wake = () => {
    pendingWake = true;
    wakeUp?.();
  };

  const heartbeat = setInterval(() => {
    if (held.size === 0) return;
    writer.run('extendLeases', { owner: nodeId, ids: [...held], until: Date.now() + config.leaseTime })
      .catch((error) => logger.warn({ err: error, event: 'delivery.heartbeat_failed' }, 'could not extend leases'));
  }, Math.floor(config.leaseTime / 3));
  heartbeat.unref();

  async function attempt(group: Group): Promise<void> {
    const now = Date.now();
    const ids = group.deliveries.map((d) => d.id);
    const routeStarted = performance.now();
    const route = await resolveRoute(group.domain, deps.resolver, { port: config.deliveryPort, relayHost: config.relayHost, mtaSts: deps.mtaSts });
    // The attempt's duration counts its DNS lookups (a slow or failing resolver shows there), not the wait for a signature.
    const routeMs = performance.now() - routeStarted;
    // Every destination that has hosts is a site, shaped as one (sites.ts); a domain without a route has nothing to shape.
    const site = route.kind === 'hosts' && deps.shaping !== false ? siteOf(route.hosts.map((h) => h.name)) : null;
    // A site with no rate limit and no suspension cannot hold these back: the message is read and
    // signed while the envelope waits for a connection slot, so the site's connections do not sit
    // idle during signing (the gate's wait came first before, and cost the bench's normal case 8–13 %
    // CPU per message on SQLite through a slower pipeline). A limited site decides first, so mail it
    // holds back is not signed for nothing.
    const open = site === null || (() => { const limits = shaper.limits(site); return limits.rate === null && limits.suspendedUntil === null; })();
    const early = open ? prepareMessage({ store, sign: deps.sign, fresh, domains }, group.messageId) : null;
    early?.catch(() => {}); // awaited below; until then a failure must not count as unhandled
    const admission = site ? await shaper.admit(site, ids) : null;
    if (site && admission?.kind === 'hold') {
      await holdBack(group, admission.until, null);
      shaper.heldBack(site, ids.length);
      logger.debug({ event: 'delivery.held_back', messageId: group.messageId, site, why: admission.why, until: admission.until }, `held back for ${site}`);
      return;
    }
    let outcomes: Map<string, Outcome>;
    let message;
    try {
      message = await (early ?? prepareMessage({ store, sign: deps.sign, fresh, domains }, group.messageId));
      if (!message) return;
      const sender = envelopeSender(message, ids, deps.verpSecret);
      outcomes = await sendEnvelope({ from: sender, recipients: group.deliveries.map((d) => d.recipient), raw: message.raw }, route, {
        heloName: config.hostname, pool, timeouts: deps.timeouts, ca: deps.tlsCa, startedAt: performance.now() - routeMs,
        auth: config.relayHost && config.relayUser ? { user: config.relayUser, pass: config.relayPassword ?? '' } : null,
      });
    } finally {
      if (admission?.kind === 'go') admission.release();
    }
    // Only a retry reads the signature again (so that it sends identical bytes): it is kept when
    // a recipient will be tried again, not for mail that is done. A lost one means a retry signs again.
    if (message.newSignature !== null && [...outcomes.values()].some((outcome) => outcome.kind === 'deferred')) {
      await writer.run('rememberSignature', { messageId: message.id, signature: message.newSignature })
        .catch((error) => logger.warn({ err: error, event: 'delivery.signature_not_stored', messageId: message.id }, 'could not keep the DKIM signature; a retry signs again'));
    }
    // A site that said "slower" holds these back: not an attempt, no step of the retry schedule
    // (the product contract). Mail that has been queued too long is recorded as usual, so it expires.
    const throttled = site ? group.deliveries.filter((d) => {
      const outcome = outcomes.get(d.recipient)!;
      return outcome.kind === 'deferred' && shaper.signalOf(outcome) !== null && !hasExpired(d.created_at, now, config.maxQueueTime);
    }) : [];
    if (site) shaper.observe(site, group.domain, outcomes.values(), throttled.length);
    if (throttled.length > 0) {
      const throttledIds = throttled.map((d) => d.id);
      const reply = outcomes.get(throttled[0].recipient)!.reply;
      await holdBack({ ...group, deliveries: throttled }, shaper.holdUntil(site!, throttledIds), reply);
      for (const d of throttled) logger.info({ event: 'delivery.throttled', messageId: d.message_id, deliveryId: d.id, recipient: d.recipient, site, reply }, `held back (the site asked for less): ${d.recipient}`);
    }
    const recorded = group.deliveries.filter((d) => !throttled.includes(d));
    if (recorded.length === 0) return;
    const record = {
      owner: nodeId, now: Date.now(), message, deliveries: recorded, outcomes, hostname: config.hostname,
      retrySchedule: config.retrySchedule, maxQueueTime: config.maxQueueTime,
    };
    const states = await recordWithRetries(() => writer.run('recordAttempt', record), group);
    for (const state of states) {
      const delivery = group.deliveries.find((d) => d.id === state.deliveryId)!;
      observe(state.status, delivery, outcomes.get(delivery.recipient)!, now);
      if (!state.written) logger.warn({ event: 'delivery.lease_lost', messageId: message.id, deliveryId: delivery.id }, 'lease lost before the outcome was recorded; another worker owns this delivery now');
    }
  }

  /** Gives deliveries back until `until` without an attempt; a failed write leaves them to the lease's end, which is no worse. */
  async function holdBack(group: Group, until: number, reply: string | null): Promise<void> {
    await writer.run('holdBack', { owner: nodeId, ids: group.deliveries.map((d) => d.id), until, now: Date.now(), reply })
      .catch((error) => logger.warn({ err: error, event: 'delivery.hold_back_failed', messageId: group.messageId }, 'could not hold deliveries back; they come due when their lease runs out'));
  }

  /**
   * The mail has been handed over: an outcome that is not written becomes a
   * second delivery when the lease runs out. So a failed write (a deadlock
   * victim, a dropped connection) is tried again while the lease is still
   * kept alive by the heartbeat.
   */
  async function recordWithRetries<T>(write: () => Promise<T>, group: Group): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (error) {
        if (attempt >= RECORD_ATTEMPTS) throw error;
        logger.warn({ err: error, event: 'delivery.record_retry', messageId: group.messageId, attempt }, 'could not record the outcome; trying again');
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
  }

  function observe(status: string, delivery: ClaimedDelivery, outcome: Outcome, startedAt: number): void {
    const labels = { domain_class: domainClass(delivery.recipient_domain) };
    if (status === 'delivered') {
      metrics.delivered.inc(labels);
      metrics.deliveryLatency.observe((Date.now() - delivery.created_at) / 1000);
    } else if (status === 'deferred') metrics.deferred.inc(labels);
    else metrics.bounced.inc(labels);
    logger.info({
      event: `delivery.${status}`, messageId: delivery.message_id, deliveryId: delivery.id, recipient: delivery.recipient,
      mx: outcome.mx, ip: outcome.ip, tls: outcome.tls.version ?? null, reply: outcome.reply, attempt: delivery.attempt_count + 1,
      durationMs: Date.now() - startedAt,
    }, `${status}: ${delivery.recipient}`);
  }

  function run(group: Group): void {
    for (const d of group.deliveries) held.add(d.id);
    // The body (and its signed copy) is in memory from preparing to recording: it waits its turn under the budget.
    const bytes = group.deliveries[0].size;
    const task = budget.acquire(bytes).then(() => attempt(group).finally(() => budget.release(bytes))).catch((error) => {
      // The leases stay: the deliveries come due again when they run out.
      logger.error({ err: error, event: 'delivery.attempt_failed', messageId: group.messageId, domain: group.domain }, 'delivery attempt failed unexpectedly');
    }).finally(() => {
      for (const d of group.deliveries) held.delete(d.id);
      inFlight.delete(task);
      wake();
    });
    inFlight.add(task);
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      pendingWake = false;
      const free = config.deliveryConcurrency - held.size;
      let claimed: ClaimedDelivery[] = [];
      if (free > 0) {
        try {
          claimed = await writer.run('claimDeliveries', { owner: nodeId, now: Date.now(), leaseMs: config.leaseTime, limit: free });
        } catch (error) {
          logger.error({ err: error, event: 'delivery.claim_failed' }, 'could not claim deliveries');
        }
      }
      for (const group of groupByMessageAndDomain(claimed)) run(group);
      // A full claim means more may be due: look again at once.
      if (claimed.length > 0 && claimed.length === free) continue;
      if (!pendingWake) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, deps.pollMs ?? 1000);
          wakeUp = () => { clearTimeout(timer); resolve(); };
        });
        wakeUp = null;
      }
    }
  }

  // A live process never shares its node id (nodes/registry.ts), so leases
  // under this id are left over from this node's previous life: take them
  // back now instead of waiting for them to run out.
  const looping = writer.run('releaseLeases', { owner: nodeId, ids: null, now: Date.now() })
    .catch((error) => logger.warn({ err: error, event: 'delivery.release_failed' }, 'could not release leases of a previous run'))
    .then(() => shaper.start())
    .then(loop);

  return {
    shaper,
    wake,
    accepted(messages) {
      fresh.remember(messages);
      wake();
    },
    async stop() {
      stopping = true;
      wakeUp?.();
      await looping;
      const finished = Promise.all(inFlight);
      const timedOut = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), config.shutdownTimeout).unref());
      if ((await Promise.race([finished, timedOut])) === 'timeout') {
        logger.warn({ event: 'delivery.shutdown_release', deliveries: held.size }, 'releasing deliveries still in flight');
        await writer.run('releaseLeases', { owner: nodeId, ids: [...held], now: Date.now() }).catch(() => {});
      }
      clearInterval(heartbeat);
      await shaper.stop();
      pool.close();
    },
  };
}

function groupByMessageAndDomain(deliveries: readonly ClaimedDelivery[]): Group[] {
  const groups = new Map<string, Group>();
  for (const delivery of deliveries) {
    const key = `${delivery.message_id} ${delivery.recipient_domain}`;
    const group = groups.get(key) ?? { messageId: delivery.message_id, domain: delivery.recipient_domain, deliveries: [] };
    group.deliveries.push(delivery);
    groups.set(key, group);
  }
  return [...groups.values()];
}
