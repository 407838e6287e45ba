/**
 * The composition root: reads top to bottom as the service starts. Every
 * component gets what it needs as parameters; nothing reaches for globals.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import type { Config } from './config/options.ts';
import { openStore, type Store } from './store/database.ts';
import { createResolver } from './dns/resolver.ts';
import { Enqueuer } from './queue/enqueue.ts';
import { AuthThrottle } from './smtp/auth-throttle.ts';
import { loadTlsCredentials } from './smtp/tls.ts';
import { startSubmissionListeners, type Listener } from './smtp/listeners.ts';
import { ensureAdminAccount } from './accounts/admin.ts';
import { startHttpServer } from './api/server.ts';

export interface RunningMailroom {
  config: Config;
  store: Store;
  listeners: Listener[];
  nodeId: string;
  /** Graceful stop: listeners answer 421, in-flight work finishes or is released. */
  stop(): Promise<void>;
}

export async function startMailroom(config: Config, logger: Logger = createLogger(config)): Promise<RunningMailroom> {
  const nodeId = config.nodeId ?? defaultNodeId(config);
  const roles = new Set(config.roles);

  const store = await openStore(config.databaseUrl);
  const resolver = createResolver(config.dnsServers);
  const enqueuer = new Enqueuer(store);
  const listeners: Listener[] = [];
  const admin = roles.has('http') ? await ensureAdminAccount(store, config) : null;

  if (roles.has('smtp')) {
    const tls = await loadTlsCredentials({ certFile: config.tlsCert, keyFile: config.tlsKey, dataDir: config.dataDir, hostname: config.hostname });
    if (tls.selfSigned) {
      logger.warn({ event: 'tls.self_signed' }, `TLS uses a self-signed certificate for ${config.hostname}: Gmail and most mail clients refuse it. Set MAILROOM_TLS_CERT and MAILROOM_TLS_KEY to a CA-signed certificate.`);
    }
    const throttle = new AuthThrottle({ maxFailures: 10, windowMs: 10 * 60_000 });
    listeners.push(...(await startSubmissionListeners(config, tls, { config, store, enqueuer, throttle, logger })));
  }
  if (roles.has('http') && config.httpPort !== null) {
    listeners.push(await startHttpServer({ config, store, resolver, logger, nodeId, listeners }));
  }

  for (const listener of listeners) logger.info({ event: 'listener.ready', name: listener.name, host: listener.host, port: listener.port }, `listening: ${listener.name} on ${listener.host}:${listener.port}`);
  if (admin?.created) logger.info({ event: 'admin.created', email: admin.email }, `first start: admin login ${admin.email} / ${admin.password}`);

  let stopping: Promise<void> | null = null;
  return {
    config, store, listeners, nodeId,
    stop() {
      stopping ??= (async () => {
        logger.info({ event: 'shutdown' }, 'stopping');
        await Promise.all(listeners.map((listener) => listener.close()));
        await enqueuer.drain();
        await store.close();
      })();
      return stopping;
    },
  };
}

export function createLogger(config: Config): Logger {
  return pino({ level: config.logLevel, base: { node: config.nodeId ?? undefined } });
}

/** Stable across restarts of the same installation, so a restarted node is recognisable in leases and logs. */
function defaultNodeId(config: Config): string {
  const where = `${resolve(config.dataDir)}|${config.smtpPort}|${config.httpPort}|${config.roles.join(',')}`;
  return `${config.hostname}-${createHash('sha256').update(where).digest('hex').slice(0, 8)}`;
}
