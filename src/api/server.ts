/** The HTTP listener: API, dashboard and operations endpoints on one port. */
import Fastify from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/options.ts';
import type { Store } from '../store/database.ts';
import type { DnsResolver } from '../dns/resolver.ts';
import type { Listener } from '../smtp/listeners.ts';

export interface HttpDeps {
  config: Config;
  store: Store;
  resolver: DnsResolver;
  logger: Logger;
  nodeId: string;
  /** The other listeners of this node, for /healthz. */
  listeners: readonly Listener[];
}

export async function startHttpServer(deps: HttpDeps): Promise<Listener> {
  const { config, store } = deps;
  const app = Fastify({ logger: false });

  app.get('/healthz', async (_request, reply) => {
    let storeOk = true;
    try {
      await store.db.selectFrom('settings').select('key').limit(1).execute();
    } catch {
      storeOk = false;
    }
    const body = {
      status: storeOk ? 'ok' : 'degraded', node: deps.nodeId, roles: config.roles, store: { engine: store.engine, ok: storeOk },
      listeners: deps.listeners.map((listener) => ({ name: listener.name, port: listener.port })),
    };
    return reply.code(storeOk ? 200 : 503).send(body);
  });

  await app.listen({ host: config.httpHost, port: config.httpPort ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.httpPort ?? 0;
  return { name: 'http (API and dashboard)', host: config.httpHost, port, close: () => app.close() };
}
