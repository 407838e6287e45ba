/**
 * The API reference a person can read: /api/docs serves Swagger UI from the
 * package itself (nothing from the internet), pointed at this server's
 * OpenAPI document; and a validation error names the allowed values.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { apiClient } from './client.ts';
import { DELIVERY_STATUSES } from '../../src/queue/delivery-status.ts';

describeEachStore('API reference page', (engine) => {
  let mailroom: TestMailroom;
  let base: string;

  before(async () => {
    mailroom = await startTestMailroom(engine, { MAILROOM_ROLES: 'http' });
    base = `http://127.0.0.1:${mailroom.port('http')}`;
  });
  after(async () => { await mailroom?.stop(); });

  it('serves a browsable page whose scripts and styles all come from this server', async () => {
    const page = await fetch(`${base}/api/docs`, { redirect: 'follow' });
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /<div id="swagger-ui">/);
    // The browser is told to load nothing from anywhere else, and not to rewrite http to https.
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.doesNotMatch(csp, /https:|upgrade-insecure-requests|\*/);
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(assets.length >= 3, html);
    for (const asset of assets) {
      assert.doesNotMatch(asset, /^(https?:)?\/\//, `${asset} would be loaded from elsewhere`);
      const response = await fetch(new URL(asset, `${base}/api/docs/`));
      assert.equal(response.status, 200, `${asset}: ${response.status}`);
    }
    const initializer = await (await fetch(`${base}/api/docs/static/swagger-initializer.js`)).text();
    assert.match(initializer, /validatorUrl: null/, 'the outside spec validator stays off');
  });

  it('describes the same API as /api/v1/openapi.json', async () => {
    const [shown, published] = await Promise.all([
      fetch(`${base}/api/docs/json`).then((r) => r.json() as Promise<{ paths: Record<string, unknown> }>),
      fetch(`${base}/api/v1/openapi.json`).then((r) => r.json() as Promise<{ paths: Record<string, unknown> }>),
    ]);
    assert.deepEqual(Object.keys(shown.paths).sort(), Object.keys(published.paths).sort());
    assert.ok('/api/v1/messages' in shown.paths);
    assert.ok(!Object.keys(shown.paths).some((path) => path.startsWith('/api/docs')), 'the page itself is not an API operation');
  });

  it('a value outside an enum is refused with the allowed values named', async () => {
    const sender = await mailroom.createSender();
    const response = await apiClient(mailroom.port('http'), sender.secret).get('/api/v1/messages?status=sent');
    assert.equal(response.status, 400);
    assert.deepEqual(response.body, {
      error: { code: 'invalid_request', message: `query parameter status must be one of: ${DELIVERY_STATUSES.join(', ')}`, field: 'status' },
    });
  });
});
