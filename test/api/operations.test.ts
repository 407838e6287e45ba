import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { apiClient } from './client.ts';
import { storeId } from '../../src/store/store-id.ts';

/** Every endpoint of the contract (docs/contract.md) and of the dashboard's needs. */
const ENDPOINTS = [
  'GET /healthz', 'GET /metrics', 'GET /api/v1/openapi.json',
  'POST /api/v1/session', 'DELETE /api/v1/session',
  'GET /api/v1/account', 'GET /api/v1/overview',
  'GET /api/v1/keys', 'POST /api/v1/keys', 'DELETE /api/v1/keys/{id}',
  'GET /api/v1/devices', 'POST /api/v1/devices', 'DELETE /api/v1/devices/{id}',
  'GET /api/v1/admin/accounts', 'POST /api/v1/admin/accounts', 'PATCH /api/v1/admin/accounts/{id}', 'POST /api/v1/admin/accounts/{id}/password',
  'GET /api/v1/doctor/sessions', 'POST /api/v1/doctor/check',
  'GET /api/v1/domains', 'POST /api/v1/domains', 'GET /api/v1/domains/{name}', 'DELETE /api/v1/domains/{name}', 'POST /api/v1/domains/{name}/verify',
  'POST /api/v1/domains/{name}/dkim-rotation', 'GET /api/v1/domains/{name}/dmarc', 'GET /api/v1/domains/{name}/dmarc/reports',
  'POST /api/v1/messages', 'GET /api/v1/messages', 'GET /api/v1/messages/{id}',
  'GET /api/v1/suppressions', 'POST /api/v1/suppressions', 'GET /api/v1/suppressions/{email}', 'DELETE /api/v1/suppressions/{email}',
  'GET /api/v1/stats',
  'GET /api/v1/webhooks', 'POST /api/v1/webhooks', 'GET /api/v1/webhooks/{id}', 'DELETE /api/v1/webhooks/{id}',
  'POST /api/v1/webhooks/{id}/test', 'GET /api/v1/webhooks/{id}/deliveries',
  'GET /api/v1/destinations', 'GET /api/v1/destinations/{site}', 'PUT /api/v1/destinations/{site}/pin', 'DELETE /api/v1/destinations/{site}/pin',
  'GET /api/v1/templates', 'POST /api/v1/templates', 'GET /api/v1/templates/{name}', 'PUT /api/v1/templates/{name}', 'DELETE /api/v1/templates/{name}',
  'GET /api/v1/sandbox', 'PUT /api/v1/admin/accounts/{id}/sandbox',
  'POST /api/v1/messages/batch', 'DELETE /api/v1/messages/{id}', 'POST /api/v1/messages/{id}/cancel',
  'GET /api/v1/domains/{name}/tracking', 'PUT /api/v1/domains/{name}/tracking',
  'GET /api/v1/reports', 'POST /api/v1/templates/preview',
  'GET /api/v1/receive-here', 'POST /api/v1/receive-here', 'DELETE /api/v1/receive-here/{address}',
  'GET /api/v1/caught-messages', 'GET /api/v1/caught-messages/{id}', 'DELETE /api/v1/caught-messages/{id}', 'POST /api/v1/caught-messages/{id}/forward',
];

describeEachStore('API operations', (engine) => {
  let m: TestMailroom;

  before(async () => { m = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp,http' }); });
  after(async () => { await m.stop(); });

  test('GET /healthz reports the store, the listeners, the node and its roles', async () => {
    const response = await apiClient(m.port('http'), null).get('/healthz');
    assert.equal(response.status, 200);
    assert.equal(response.body.status, 'ok');
    assert.equal(response.body.node, m.running.nodeId);
    assert.deepEqual(response.body.roles, ['smtp', 'http']);
    assert.deepEqual(response.body.store, { engine, ok: true, id: await storeId(m.running.store) });
    assert.deepEqual(response.body.listeners.map((l: any) => l.port).sort(), [m.port('submission'), m.port('submissions'), m.port('http')].sort());
  });

  test('GET /metrics is Prometheus text with the queue depth read from the store', async () => {
    const sender = await m.createSender();
    await apiClient(m.port('http'), sender.secret).post('/api/v1/messages', { from: sender.email, to: ['q1@example.com', 'q2@example.com'], text: 't' });
    const response = await apiClient(m.port('http'), null).get('/metrics');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(response.body, /^mailroom_queue_depth 2$/m);
    assert.match(response.body, /^mailroom_messages_accepted_total\{domain_class="other"\} 2$/m);
    assert.match(response.body, /^process_cpu_user_seconds_total /m);
  });

  test('the OpenAPI document lists every endpoint with its schemas', async () => {
    const response = await apiClient(m.port('http'), null).get('/api/v1/openapi.json');
    assert.equal(response.status, 200);
    assert.equal(response.body.openapi, '3.1.0');
    const listed = Object.entries(response.body.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`));
    assert.deepEqual([...listed].sort(), [...ENDPOINTS].sort());
    const send = response.body.paths['/api/v1/messages'].post;
    assert.deepEqual(Object.keys(send.requestBody.content['application/json'].schema.properties).sort(),
      ['attachments', 'bcc', 'cc', 'from', 'headers', 'html', 'raw', 'replyTo', 'sendAt', 'subject', 'tags', 'template', 'text', 'to', 'track', 'unsubscribe', 'variables']);
    assert.ok(send.responses['202'] && send.responses['4XX'], 'success and error shapes are documented');
    assert.ok(send.parameters.some((p: any) => p.in === 'header' && p.name === 'idempotency-key'));
    assert.deepEqual(response.body.paths['/healthz'].get.security, [], 'public endpoints say so');
    assert.ok(response.body.components.securitySchemes.bearerAuth);
  });
});
