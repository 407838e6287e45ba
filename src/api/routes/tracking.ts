/**
 * Tracking: a domain's settings (GET/PUT /api/v1/domains/:name/tracking,
 * authenticated) and the public endpoints tracked mail points at — the open
 * pixel (/t/o) and the click redirect (/t/c). Both check the URL's signature
 * first: an unsigned or altered URL records nothing and redirects nowhere.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { ApiApp, HttpDeps } from '../deps.ts';
import { principalOf } from '../auth.ts';
import { ApiError, sendError, withFieldNames } from '../errors.ts';
import { ERRORS } from '../schemas.ts';
import { getDomainRow } from '../../domains/domains.ts';
import { setTrackingSettings, trackingSettings } from '../../domains/tracking-settings.ts';
import { readTrackingQuery, trackingSecret } from '../../events/tracking-links.ts';
import { recordEvents } from '../../queue/message-events.ts';

const Settings = Type.Object({
  opens: Type.Boolean({ description: 'an invisible image in HTML mail reports opens (Apple Mail Privacy Protection opens every message: machine opens are counted too)' }),
  clicks: Type.Boolean({ description: 'links in HTML mail go through Mailroom, which records the click and redirects' }),
}, { additionalProperties: false });

export function trackingSettingsRoutes(app: ApiApp, deps: HttpDeps): void {
  const { store } = deps;
  const Name = Type.Object({ name: Type.String({ maxLength: 253 }) });

  app.get('/domains/:name/tracking', {
    schema: { tags: ['domains'], summary: "The domain's open and click tracking (both off unless turned on)", params: Name, response: { 200: Settings, ...ERRORS } },
  }, async (request) => {
    const domain = await withFieldNames({ domain: 'name' }, () => getDomainRow(store, request.params.name, principalOf(request).accountId));
    return trackingSettings(store, domain.id);
  });

  app.put('/domains/:name/tracking', {
    schema: { tags: ['domains'], summary: "Turn the domain's open and click tracking on or off; messages may still turn them off", params: Name, body: Settings, response: { 200: Settings, ...ERRORS } },
  }, async (request) => {
    const domain = await withFieldNames({ domain: 'name' }, () => getDomainRow(store, request.params.name, principalOf(request).accountId));
    await setTrackingSettings(store, domain.id, request.body);
    return trackingSettings(store, domain.id);
  });
}

// The smallest transparent GIF.
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

export async function trackingEndpoints(app: FastifyInstance, deps: HttpDeps): Promise<void> {
  const { store } = deps;
  type Query = { Querystring: { d?: string; s?: string } };

  const record = async (type: 'opened' | 'clicked', target: { messageId: string; recipient: string | null }, userAgent: string | undefined, url?: string) => {
    const message = await store.db.selectFrom('messages').select(['id', 'account_id']).where('id', '=', target.messageId).executeTakeFirst();
    if (!message) return;
    const agent = (userAgent ?? '').slice(0, 300);
    await recordEvents(store.db, [{
      accountId: message.account_id, messageId: message.id, deliveryId: null, recipient: target.recipient, type,
      reply: url ? `${url} (user agent: ${agent || 'none'})` : `user agent: ${agent || 'none'}`, at: Date.now(),
    }]);
  };

  app.get<Query>('/t/o', async (request, reply) => {
    const target = readTrackingQuery(await trackingSecret(store), 'open', request.query.d, request.query.s);
    // A bad signature still gets the image (a broken image helps nobody), but nothing is recorded.
    if (target) await record('opened', target, request.headers['user-agent']);
    return reply.code(200).type('image/gif').header('cache-control', 'no-store, private').send(PIXEL);
  });

  app.get<Query>('/t/c', async (request, reply) => {
    const target = readTrackingQuery(await trackingSecret(store), 'click', request.query.d, request.query.s);
    if (!target?.url || !/^https?:\/\//i.test(target.url)) return sendError(reply, new ApiError(404, 'unknown_link', 'This link is not one Mailroom made'));
    await record('clicked', target, request.headers['user-agent'], target.url);
    return reply.code(302).header('location', target.url).header('cache-control', 'no-store, private').send();
  });
}
