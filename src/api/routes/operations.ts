/** For operators and their tools: health, Prometheus metrics, and the API's own description. Public: no key needed. */
import { Type } from 'typebox';
import type { ApiApp, HttpDeps } from '../deps.ts';
import { storeId } from '../../store/store-id.ts';

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
    schema: { tags: ['operations'], summary: 'Prometheus metrics of this node (text exposition format)', security: [] },
  }, async (_request, reply) => {
    // The queue is shared by every node, so its depth is read from the store when scraped.
    const row = await store.db.selectFrom('deliveries').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', 'in', ['queued', 'deferred']).executeTakeFirstOrThrow();
    metrics.queueDepth.set(Number(row.n));
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.get('/api/v1/openapi.json', {
    schema: { tags: ['operations'], summary: 'This API, described as OpenAPI 3.1', security: [] },
  }, async () => app.swagger());
}
