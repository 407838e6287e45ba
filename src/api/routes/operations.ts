/**
 * For operators and their tools: health, Prometheus metrics, and the API's
 * own description. No account key needed; /metrics is not for the world
 * (it tells who sends how much to where): it takes a token of its own, or,
 * without one, answers only clients on this host.
 */
import { Type } from 'typebox';
import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { ApiApp, HttpDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { storeId } from '../../store/store-id.ts';
import type { Store } from '../../store/database.ts';
import type { Metrics } from '../../events/metrics.ts';
import { deliveryNodeCount, readSites } from '../../queue/shaping-store.ts';
import { destinationView } from '../../delivery/destination-view.ts';
import { PENDING_STATUSES } from '../../queue/delivery-status.ts';

const Health = Type.Object({
  status: Type.Enum(['ok', 'degraded']),
  node: Type.String(),
  roles: Type.Array(Type.String()),
  store: Type.Object({
    engine: Type.String(), ok: Type.Boolean(),
    id: Type.Optional(Type.String({ description: 'a random id kept in the store: nodes (and the CLI) with the same id share one store' })),
  }),
  listeners: Type.Array(Type.Object({ name: Type.String(), port: Type.Integer() })),
});

export function operationsRoutes(app: ApiApp, deps: HttpDeps): void {
  const { store, config, metrics } = deps;

  app.get('/healthz', {
    schema: { tags: ['operations'], summary: 'Store reachable, listeners up, node id and roles; 503 when the store is not', security: [], response: { 200: Health, 503: Health } },
  }, async (_request, reply) => {
    let storeOk = true;
    let id: string | undefined;
    try {
      id = await storeId(store);
    } catch {
      storeOk = false;
    }
    return reply.code(storeOk ? 200 : 503).send({
      status: storeOk ? 'ok' : 'degraded', node: deps.nodeId, roles: [...config.roles], store: { engine: store.engine, ok: storeOk, id },
      listeners: deps.listeners.map((listener) => ({ name: listener.name, port: listener.port })),
    });
  });

  app.get('/metrics', {
    schema: {
      tags: ['operations'], security: [],
      summary: 'Prometheus metrics of this node (text exposition format): with MAILROOM_METRICS_TOKEN set, for `Authorization: Bearer <token>`; else for loopback clients only',
    },
  }, async (request, reply) => {
    const denied = metricsAccess(config.metricsToken, request.ip, request.headers.authorization);
    if (denied) throw denied;
    // The queue is shared by every node, so its depth is read from the store when scraped.
    const row = await store.db.selectFrom('deliveries').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', 'in', PENDING_STATUSES).executeTakeFirstOrThrow();
    metrics.queueDepth.set(Number(row.n));
    await setSiteGauges(store, config.destinationConcurrency, metrics);
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.get('/api/v1/openapi.json', {
    schema: { tags: ['operations'], summary: 'This API, described as OpenAPI 3.1', security: [] },
  }, async () => app.swagger());
}

/** Null when the scrape may proceed; else the error to answer. */
function metricsAccess(token: string | null, ip: string, authorization: string | undefined): ApiError | null {
  if (token !== null) {
    const given = Buffer.from(/^Bearer (.+)$/i.exec(authorization ?? '')?.[1] ?? '');
    const wanted = Buffer.from(token);
    if (given.length === wanted.length && timingSafeEqual(given, wanted)) return null;
    return new ApiError(401, 'metrics_token_required', 'GET /metrics needs Authorization: Bearer <MAILROOM_METRICS_TOKEN>');
  }
  if (isLoopback(ip)) return null;
  return new ApiError(403, 'metrics_loopback_only', 'GET /metrics answers clients on this host only; set MAILROOM_METRICS_TOKEN to scrape it from elsewhere');
}

function isLoopback(ip: string): boolean {
  const v4 = ip.startsWith('::ffff:') ? ip.slice('::ffff:'.length) : ip;
  return (isIP(v4) === 4 && v4.startsWith('127.')) || ip === '::1';
}

/** The shaped sites' limits, shared by the cluster, as gauges (sites at their defaults are left out). */
async function setSiteGauges(store: Store, defaultConcurrency: number, metrics: Metrics): Promise<void> {
  const now = Date.now();
  const [sites, nodes] = await Promise.all([readSites(store.db), deliveryNodeCount(store.db, now)]);
  for (const gauge of [metrics.siteConcurrency, metrics.siteRate, metrics.siteSuspended]) gauge.reset();
  for (const site of sites) {
    const view = destinationView(site, { now, nodes, defaultConcurrency });
    if (view.rate === null && view.learnt.concurrency === null && view.pinned.concurrency === null && view.suspendedUntil === null) continue;
    metrics.siteConcurrency.set({ site: site.site }, view.concurrency);
    if (view.rate !== null) metrics.siteRate.set({ site: site.site }, view.rate);
    metrics.siteSuspended.set({ site: site.site }, view.suspendedUntil === null ? 0 : 1);
  }
}
