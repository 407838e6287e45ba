/**
 * Webhook endpoints: register a URL for chosen event types (the signing
 * secret is shown once, at creation), send it a test event, and read what
 * was sent to it. Sending itself is the dispatcher's job (events/webhooks-dispatcher.ts).
 */
import { Type } from 'typebox';
import { WEBHOOK_EVENT_TYPES } from '../../queue/message-events.ts';
import { createWebhook, deleteWebhook, getWebhook, listWebhookDeliveries, listWebhooks, sendTestEvent, type Webhook } from '../../events/webhooks.ts';
import type { ApiApp, HttpDeps } from '../deps.ts';
import { principalOf } from '../auth.ts';
import { decodeCursor, page } from '../pagination.ts';
import { ERRORS, NoContent, NullableTimestamp, Page, PageQuery, Timestamp, iso, isoOrNull } from '../schemas.ts';

const EventType = Type.Enum([...WEBHOOK_EVENT_TYPES]);

const WebhookView = Type.Object({ id: Type.String(), url: Type.String(), events: Type.Array(EventType), createdAt: Timestamp });

const CreatedWebhook = Type.Object({
  id: Type.String(), url: Type.String(), events: Type.Array(EventType), createdAt: Timestamp,
  secret: Type.String({ description: 'shown only here: verify Mailroom-Signature (t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">) with it' }),
});

const TestResult = Type.Object({
  deliveryId: Type.String(), delivered: Type.Boolean(), statusCode: Type.Union([Type.Integer(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]), durationMs: Type.Integer(),
});

const DeliveryLog = Type.Object({
  id: Type.String(), eventId: Type.Union([Type.String(), Type.Null()]), type: Type.String(),
  status: Type.Enum(['pending', 'delivered', 'failed']), attemptCount: Type.Integer(), nextAttemptAt: NullableTimestamp,
  createdAt: Timestamp, deliveredAt: NullableTimestamp, payload: Type.String({ description: 'the JSON body sent' }),
  attempts: Type.Array(Type.Object({
    at: Timestamp, statusCode: Type.Union([Type.Integer(), Type.Null()]), error: Type.Union([Type.String(), Type.Null()]), durationMs: Type.Integer(),
  }), { description: 'the most recent attempts, newest first' }),
});

const WebhookId = Type.Object({ id: Type.String({ maxLength: 100 }) });

export function webhookRoutes(app: ApiApp, deps: HttpDeps): void {
  const { store } = deps;

  app.get('/webhooks', {
    schema: { tags: ['webhooks'], summary: "The account's webhook endpoints", querystring: Type.Object(PageQuery), response: { 200: Page(WebhookView), ...ERRORS } },
  }, async (request) => {
    const limit = request.query.limit ?? 50;
    const rows = await listWebhooks(store, principalOf(request).accountId, { limit: limit + 1, after: decodeCursor(request.query.cursor) });
    return page(rows, limit, (w) => w.id, view);
  });

  app.post('/webhooks', {
    schema: {
      tags: ['webhooks'], summary: 'Register an endpoint; the answer holds its signing secret, shown only here',
      body: Type.Object({
        url: Type.String({ minLength: 1, maxLength: 2000 }),
        events: Type.Optional(Type.Array(EventType, { minItems: 1, uniqueItems: true, description: 'default: every event type' })),
      }, { additionalProperties: false }),
      response: { 201: CreatedWebhook, ...ERRORS },
    },
  }, async (request, reply) => {
    const created = await createWebhook(store, principalOf(request).accountId, request.body);
    return reply.code(201).send({ ...view(created.webhook), secret: created.secret });
  });

  app.get('/webhooks/:id', {
    schema: { tags: ['webhooks'], summary: 'One webhook endpoint', params: WebhookId, response: { 200: WebhookView, ...ERRORS } },
  }, async (request) => view(await getWebhook(store, principalOf(request).accountId, request.params.id)));

  app.delete('/webhooks/:id', {
    schema: { tags: ['webhooks'], summary: 'Delete an endpoint and its unsent events', params: WebhookId, response: { 204: NoContent, ...ERRORS } },
  }, async (request, reply) => {
    await deleteWebhook(store, principalOf(request).accountId, request.params.id);
    return reply.code(204).send(null);
  });

  app.post('/webhooks/:id/test', {
    schema: {
      tags: ['webhooks'], summary: 'Send a signed test event (type "test") now and answer how the endpoint replied',
      params: WebhookId, response: { 200: TestResult, ...ERRORS },
    },
  }, async (request) => {
    const { accountId } = principalOf(request);
    const result = await sendTestEvent(store, await getWebhook(store, accountId, request.params.id), accountId);
    return { deliveryId: result.deliveryId, delivered: result.ok, statusCode: result.statusCode, error: result.error, durationMs: result.durationMs };
  });

  app.get('/webhooks/:id/deliveries', {
    schema: {
      tags: ['webhooks'], summary: 'What was sent to the endpoint, newest first, with its recent attempts',
      params: WebhookId, querystring: Type.Object(PageQuery), response: { 200: Page(DeliveryLog), ...ERRORS },
    },
  }, async (request) => {
    const webhook = await getWebhook(store, principalOf(request).accountId, request.params.id);
    const limit = request.query.limit ?? 50;
    const rows = await listWebhookDeliveries(store, webhook.id, { limit: limit + 1, before: decodeCursor(request.query.cursor) });
    return page(rows, limit, (row) => row.id, (row) => ({
      id: row.id, eventId: row.eventId === null ? null : `evt_${row.eventId}`, type: row.eventType, status: row.status as 'pending' | 'delivered' | 'failed',
      attemptCount: row.attemptCount, nextAttemptAt: isoOrNull(row.nextAttemptAt), createdAt: iso(row.createdAt), deliveredAt: isoOrNull(row.deliveredAt),
      payload: row.payload, attempts: row.attempts.map((a) => ({ ...a, at: iso(a.at) })),
    }));
  });
}

function view(webhook: Webhook) {
  return { id: webhook.id, url: webhook.url, events: webhook.events, createdAt: iso(webhook.createdAt) };
}
