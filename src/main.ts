/**
 * The composition root: reads top to bottom as the service starts. Every
 * component gets what it needs as parameters; nothing reaches for globals.
 */
import { signatureAtAcceptance } from './signing/sign-at-acceptance.ts';
import { startScheduledReleaser } from './queue/schedule.ts';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { createLogger } from './logger.ts';
import type { Config } from './config/options.ts';
import { openStore, type Store } from './store/database.ts';
import { createResolver } from './dns/resolver.ts';
import { withAnswerCache } from './dns/cache.ts';
import { Enqueuer } from './queue/enqueue.ts';
import { startQueueWriter } from './write-operations.ts';
import { AuthThrottle, authThrottlePolicy } from './accounts/auth-throttle.ts';
import { loadTlsCredentials } from './tls/credentials.ts';
import { startMxListener, startSubmissionListeners } from './smtp/listeners.ts';
import type { Listener } from './nodes/listener.ts';
import { startSessionThreads } from './smtp/session-threads.ts';
import { createMetrics } from './events/metrics.ts';
import { domainClass } from './events/metrics.ts';
import { domainOf } from './message/address.ts';
import { sharedSecret } from './store/settings.ts';
import { startDeliveryWorker, type DeliveryWorker } from './delivery/worker.ts';
import { MtaStsPolicies } from './delivery/mta-sts.ts';
import { storedPolicies } from './delivery/mta-sts-store.ts';
import { startDomainRechecks } from './domains/recheck.ts';
import { startDmarcSummaries } from './domains/dmarc-summary.ts';
import { trustedRoots, type OutboundTlsOptions } from './delivery/trust.ts';
import { startSigningPool } from './signing/signing-pool.ts';
import type { SessionTimeouts } from './delivery/smtp-client.ts';
import { registerNode } from './nodes/registry.ts';
import { ensureAdminAccount } from './accounts/admin.ts';
import { startHttpServer } from './api/server.ts';
import { startWebhookDispatcher, type WebhookDispatcherOptions } from './events/webhooks-dispatcher.ts';
import { loadCertificates, type CertificateOptions, type Certificates } from './tls/certificates.ts';
import { SessionRecorder } from './doctor/session-recorder.ts';
import { hostnameWarning } from './domains/server-host.ts';
import type { Shaper } from './delivery/shaper.ts';
import { KeyUseLog } from './accounts/key-use-log.ts';
import { startRetentionJob, type RetentionJob, type RetentionTuning } from './retention/job.ts';
import { startDiskGuard, watchedDirectories } from './store/disk-guard.ts';

export interface RunningMailroom {
  config: Config;
  store: Store;
  listeners: Listener[];
  nodeId: string;
  /** The TLS certificate in use and its ACME renewal; null on a node without TLS listeners. */
  certificates: Certificates | null;
  /** The Send-As doctor's log of recent SMTP sessions. */
  smtpSessions: SessionRecorder;
  /** The admin login this start created (first start only), for the terminal, never the log. */
  firstAdmin: { email: string; password: string } | null;
  /** The service's log, for the few lines written outside startMailroom (the signal that stops it). */
  logger: Logger;
  /** This node's side of adaptive shaping; null on a node without the delivery role. */
  shaper: Shaper | null;
  /** Deletes old bodies and history (src/retention). */
  retention: RetentionJob;
  /** Graceful stop: listeners answer 421, in-flight work finishes or is released. */
  stop(): Promise<void>;
}

/** Knobs tests turn; production runs with none. */
export interface StartOptions {
  deliveryTimeouts?: Partial<SessionTimeouts>;
  deliveryPollMs?: number;
  /** How long delivery reuses DNS answers; tests that change records mid-test shorten it. */
  dnsCacheMs?: number;
  /** Webhook polling and backoff; tests shorten them. */
  webhooks?: WebhookDispatcherOptions;
  /** Certificate checks and ACME trust (pebble's CA in tests). */
  certificates?: CertificateOptions;
  /** Outbound TLS trust and the MTA-STS policy port: tests add their CA and serve policies from loopback. */
  outboundTls?: OutboundTlsOptions;
  /** Retention batch sizes and first pass; tests shorten them. */
  retention?: RetentionTuning;
  /** How often the free disk space is checked; tests shorten it. */
  diskCheckMs?: number;
  /** false: delivery without adaptive shaping; for the benchmark's `shaping-cost` case only. */
  shaping?: boolean;
}

export async function startMailroom(config: Config, logger: Logger = createLogger(config), options: StartOptions = {}): Promise<RunningMailroom> {
  const nodeId = config.nodeId ?? defaultNodeId(config);
  const roles = new Set(config.roles);
  const badHostname = hostnameWarning(config.hostname);
  if (badHostname) logger.warn({ event: 'hostname.not_fqdn', hostname: config.hostname }, badHostname);

  const store = await openStore(config.databaseUrl);
  // First: the id must be ours before any lease is taken or given back under it.
  const registration = await registerNode(store, { id: nodeId, roles: config.roles, heartbeatMs: config.heartbeatInterval }, {
    onError: (error) => logger.warn({ err: error, event: 'node.heartbeat_failed' }, 'node heartbeat failed'),
    onWait: (message) => logger.warn({ event: 'node.id_wait' }, message),
  });
  const resolver = createResolver(config.dnsServers);
  const metrics = createMetrics();
  const verpSecret = await sharedSecret(store, 'verp_secret');
  let worker: DeliveryWorker | null = null;
  const writer = await startQueueWriter(store, config.databaseUrl);
  const diskGuard = startDiskGuard({
    directories: watchedDirectories(config.dataDir, config.databaseUrl), minFreeBytes: config.minFreeSpace, intervalMs: options.diskCheckMs, logger, metrics,
  });
  const enqueuer = new Enqueuer(writer, {
    storageBudget: config.storageBudget,
    diskSpaceLow: diskGuard.low,
    onCommitted(messages) {
      for (const message of messages) {
        for (const recipient of message.recipients) metrics.accepted.inc({ domain_class: domainClass(domainOf(recipient)) });
      }
      // Sandboxed mail is never attempted, so the worker need not keep it in hand.
      worker?.accepted(messages.filter((message) => !message.submission.sandbox && !message.submission.sendAt));
    },
    signSandboxed: (submission) => signatureAtAcceptance(store, submission.headerFrom, submission.raw),
  });
  const listeners: Listener[] = [];
  // One throttle for SMTP and dashboard logins; its counts live in the store, its writes go through the writer.
  const throttle = new AuthThrottle(store, writer, authThrottlePolicy(config));
  const admin = roles.has('http') ? await ensureAdminAccount(store, config) : null;

  const needsTls = roles.has('smtp') || (roles.has('mx') && config.mxPort !== null);
  const loadedTls = needsTls ? await loadTlsCredentials({ certFile: config.tlsCert, keyFile: config.tlsKey, dataDir: config.dataDir, hostname: config.hostname }) : null;
  // Certificates (src/tls): the store's certificate for MAILROOM_HOSTNAME (obtained and renewed by ACME when
  // MAILROOM_ACME_EMAIL is set) replaces the loaded one, now and later in every TLS listener, without a restart.
  const certificates = loadedTls ? await loadCertificates({ config, store, logger, nodeId, initial: loadedTls, listeners }, options.certificates) : null;
  const tls = certificates?.current() ?? null;
  // Both buffer what each SMTP session leaves behind and hand it to the queue writer about once a second.
  const smtpSessions = new SessionRecorder(writer, logger);
  const keyUses = new KeyUseLog(writer, logger);
  if (roles.has('smtp') && tls) {
    if (tls.selfSigned) {
      logger.warn({ event: 'tls.self_signed' }, `TLS uses a self-signed certificate for ${config.hostname}: Gmail and most mail clients refuse it. Set MAILROOM_TLS_CERT and MAILROOM_TLS_KEY to a CA-signed certificate.`);
    }
    if (config.smtpThreads > 0) {
      listeners.push(...(await startSessionThreads(config, tls, config.smtpThreads, { enqueuer, writer, recorder: smtpSessions, keyUses, logger })));
    } else {
      listeners.push(...(await startSubmissionListeners(config, tls, { config, store, enqueuer, throttle, logger, recorder: smtpSessions, keyUses })));
    }
  }
  if (roles.has('mx') && config.mxPort !== null && tls) {
    listeners.push(await startMxListener(config, tls, { config, writer, store, logger, verpSecret }));
  }
  const signing = roles.has('delivery') ? startSigningPool() : null;
  if (roles.has('delivery')) {
    const deliveryResolver = withAnswerCache(resolver, options.dnsCacheMs);
    const tlsCa = trustedRoots(options.outboundTls);
    worker = startDeliveryWorker({
      sign: signing?.sign,
      config, store, writer, resolver: deliveryResolver, logger, metrics, nodeId, verpSecret, timeouts: options.deliveryTimeouts, pollMs: options.deliveryPollMs, shaping: options.shaping,
      mtaSts: new MtaStsPolicies({ resolver: deliveryResolver, policyPort: options.outboundTls?.mtaStsPort, ca: tlsCa, store: storedPolicies(store), answerCacheMs: options.dnsCacheMs }), tlsCa,
    });
  }
  // Every delivery node releases scheduled mail when due, so it goes out on time whichever node is up.
  const scheduledReleaser = roles.has('delivery') ? startScheduledReleaser(writer, {
    onReleased: () => worker?.accepted([]),
    onError: (error) => logger.warn({ err: error, event: 'schedule.release_failed' }, 'releasing scheduled mail failed; trying again in a second'),
  }) : null;
  if (roles.has('http') && config.httpPort !== null) {
    listeners.push(await startHttpServer({ config, store, resolver, logger, nodeId, listeners, enqueuer, metrics, certificates, smtpSessions, throttle }));
  }
  // Started once HTTP is up: the first ACME order may need this node to answer its challenge.
  certificates?.start();

  const retention = startRetentionJob({
    writer, engine: store.engine, nodeId, logger,
    settings: { bodyRetentionMs: config.bodyRetention, historyRetentionMs: config.historyRetention, intervalMs: config.retentionInterval },
  }, options.retention);

  const webhooks = roles.has('http') || roles.has('delivery') ? startWebhookDispatcher({ store, writer, logger, nodeId, options: options.webhooks }) : null;
  // Verified domains' records, looked up again daily; any node may run it, each domain is taken by one.
  const rechecks = roles.has('http') || roles.has('delivery') ? startDomainRechecks({ store, resolver, serverHostname: config.hostname, logger }) : null;
  // The week's DMARC reports of each domain, summed up as an event; scheduled the same way.
  const dmarcSummaries = roles.has('http') || roles.has('delivery') ? startDmarcSummaries({ store, logger }) : null;

  await registration.announce(listeners.map((l) => ({ name: l.name, port: l.port })));
  for (const listener of listeners) logger.info({ event: 'listener.ready', name: listener.name, host: listener.host, port: listener.port }, `listening: ${listener.name} on ${listener.host}:${listener.port}`);
  // Never the password: logs are kept and shipped. The terminal shows it once (cli/first-admin.ts).
  if (admin?.created) logger.info({ event: 'admin.created', email: admin.email }, `first start: created the admin login ${admin.email}`);

  let stopping: Promise<void> | null = null;
  return {
    config, store, listeners, nodeId, certificates, smtpSessions, logger, shaper: worker?.shaper ?? null,
    retention,
    firstAdmin: admin?.created && admin.password ? { email: admin.email, password: admin.password } : null,
    stop() {
      stopping ??= (async () => {
        logger.info({ event: 'shutdown' }, 'stopping');
        // Listeners and the worker wind down together, so the stop is bounded by one MAILROOM_SHUTDOWN_TIMEOUT.
        await Promise.all([...listeners.map((listener) => listener.close()), worker?.stop(), scheduledReleaser?.stop()]);
        await signing?.close();
        await certificates?.stop();
        await smtpSessions.stop();
        await keyUses.stop();
        await enqueuer.drain();
        await retention.stop();
        diskGuard.stop();
        await webhooks?.stop();
        await writer.close();
        await rechecks?.stop();
        await dmarcSummaries?.stop();
        await registration.stop();
        await store.close();
      })();
      return stopping;
    },
  };
}


/** Stable across restarts of the same installation, so a restarted node is recognisable in leases and logs. */
function defaultNodeId(config: Config): string {
  const where = `${resolve(config.dataDir)}|${config.smtpPort}|${config.httpPort}|${config.roles.join(',')}`;
  return `${config.hostname}-${createHash('sha256').update(where).digest('hex').slice(0, 8)}`;
}
