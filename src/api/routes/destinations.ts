/**
 * Destinations (sites, see delivery/sites.ts) and their adaptive shaping: the limits in force,
 * why, and what each site did with the mail; operators pin limits here. Administrators only:
 * a site's limits are shared by every account of the installation, and the list names the
 * domains all of them send to.
 */
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { ApiApp, HttpDeps } from '../deps.ts';
import { requireAdmin } from '../auth.ts';
import { ApiError } from '../errors.ts';
import { decodeCursor, page } from '../pagination.ts';
import { ERRORS, NoContent, NullableTimestamp, Page, PageQuery, Timestamp } from '../schemas.ts';
import { deliveryNodeCount, pinSite, readSites } from '../../queue/shaping-store.ts';
import { destinationView } from '../../delivery/destination-view.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

const Limits = Type.Object({ concurrency: Nullable(Type.Integer()), rate: Nullable(Type.Number()) });

const Destination = Type.Object({
  site: Type.String({ description: 'a provider (google, microsoft, yahoo, …) or the sorted MX host names' }),
  domains: Type.Array(Type.String(), { description: 'recipient domains seen on the site (a sample)' }),
  concurrency: Type.Integer({ description: 'connections the cluster may hold to the site now' }),
  rate: Nullable(Type.Number({ description: 'messages per second the cluster may send now; null: no limit' })),
  learnt: Limits,
  pinned: Limits,
  suspendedUntil: NullableTimestamp,
  lastChange: Nullable(Type.Object({
    kind: Type.String({ description: 'decreased, increased, suspended or pinned' }),
    at: Timestamp,
    reply: Nullable(Type.String({ description: 'the remote reply that caused the last decrease or suspension' })),
    rule: Nullable(Type.String()),
  })),
  stats: Type.Object({ delivered: Type.Integer(), deferred: Type.Integer(), bounced: Type.Integer(), throttled: Type.Integer(), heldBack: Type.Integer() }),
  deliveryNodes: Type.Integer(),
});

const SiteParam = Type.Object({ site: Type.String({ minLength: 1, maxLength: 1000 }) });

const adminOnly = async (request: FastifyRequest) => {
  requireAdmin(request);
};

export function destinationRoutes(app: ApiApp, deps: HttpDeps): void {
  const { store, config } = deps;
  const facts = async () => {
    const now = Date.now();
    return { now, nodes: await deliveryNodeCount(store.db, now), defaultConcurrency: config.destinationConcurrency };
  };

  app.get('/destinations', {
    onRequest: adminOnly,
    schema: { tags: ['destinations'], summary: 'Every site with its limits, why they last changed, and its statistics (administrators only)', querystring: Type.Object(PageQuery), response: { 200: Page(Destination), ...ERRORS } },
  }, async (request) => {
    const limit = request.query.limit ?? 50;
    const rows = await readSites(store.db, undefined, { after: decodeCursor(request.query.cursor), limit: limit + 1 });
    const f = await facts();
    return page(rows, limit, (row) => row.site, (row) => destinationView(row, f));
  });

  app.get('/destinations/:site', {
    onRequest: adminOnly,
    schema: { tags: ['destinations'], summary: 'One site (administrators only)', params: SiteParam, response: { 200: Destination, ...ERRORS } },
  }, async (request) => {
    const [row] = await readSites(store.db, request.params.site);
    if (!row) throw new ApiError(404, 'unknown_destination', `no site named ${request.params.site} has been seen`, 'site');
    return destinationView(row, await facts());
  });

  app.put('/destinations/:site/pin', {
    onRequest: adminOnly,
    schema: {
      tags: ['destinations'], summary: "Pin a site's concurrency and/or rate for the whole cluster, over what shaping learns (administrators only)", params: SiteParam,
      body: Type.Object({
        concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'connections for the cluster; when left out, the current pin stays' })),
        rate: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000, description: 'messages per second for the cluster; when left out, the current pin stays' })),
      }, { additionalProperties: false }),
      response: { 200: Destination, ...ERRORS },
    },
  }, async (request) => {
    const { concurrency, rate } = request.body;
    if (concurrency === undefined && rate === undefined) throw new ApiError(400, 'invalid_pin', 'give concurrency, rate or both (DELETE lifts the pins)', 'concurrency');
    const [current] = await readSites(store.db, request.params.site);
    const pin = {
      concurrency: concurrency === undefined ? (current?.pinnedConcurrency ?? null) : concurrency,
      rate: rate === undefined ? (current?.pinnedRate ?? null) : rate,
    };
    const f = await facts();
    return destinationView(await pinSite(store.db, store.engine, request.params.site, pin, f.now), f);
  });

  app.delete('/destinations/:site/pin', {
    onRequest: adminOnly,
    schema: { tags: ['destinations'], summary: 'Lift the pins of a site: shaping decides again (administrators only)', params: SiteParam, response: { 204: NoContent, ...ERRORS } },
  }, async (request, reply) => {
    const [current] = await readSites(store.db, request.params.site);
    if (!current) throw new ApiError(404, 'unknown_destination', `no site named ${request.params.site} has been seen`, 'site');
    await pinSite(store.db, store.engine, request.params.site, { concurrency: null, rate: null }, Date.now());
    return reply.code(204).send(null);
  });
}
