/**
 * The dashboard's HTTP side without a browser: every page URL gets the shell,
 * assets and the vendored libraries are served with the right types, and
 * nothing outside those folders can be reached.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerDashboard } from '../../src/web/routes.ts';

describe('dashboard routes', () => {
  let app: FastifyInstance;
  before(async () => {
    app = Fastify();
    await app.register(registerDashboard, {});
    await app.ready();
  });
  after(() => app.close());

  for (const url of ['/', '/login', '/app', '/app/profile', '/app/doctor', '/app/domains/example.com', '/app/messages/abc?status=bounced']) {
    it(`answers ${url} with the app shell and a strict CSP`, async () => {
      const response = await app.inject({ url });
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-type']), /^text\/html/);
      assert.match(response.body, /<script type="importmap">/);
      assert.match(response.body, /src="\/assets\/app\.js"/);
      const csp = String(response.headers['content-security-policy']);
      assert.match(csp, /script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
      assert.match(csp, /frame-ancestors 'none'/);
    });
  }

  it('serves the browser modules as JavaScript, and revalidates with an ETag', async () => {
    const response = await app.inject({ url: '/assets/app.js' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/javascript/);
    const etag = String(response.headers.etag);
    const again = await app.inject({ url: '/assets/app.js', headers: { 'if-none-match': etag } });
    assert.equal(again.statusCode, 304);
  });

  it('serves every library the import map names', async () => {
    const shell = (await app.inject({ url: '/' })).body;
    const map = JSON.parse(/<script type="importmap">(.*?)<\/script>/s.exec(shell)?.[1] ?? '{}') as { imports: Record<string, string> };
    assert.deepEqual(Object.keys(map.imports).sort(), ['htm', 'htm/preact', 'preact', 'preact/hooks', 'uplot']);
    for (const url of [...Object.values(map.imports), '/vendor/uplot.css']) {
      const response = await app.inject({ url });
      assert.equal(response.statusCode, 200, url);
      assert.ok(response.body.length > 100, url);
    }
  });

  it('refuses paths outside its folders', async () => {
    for (const url of ['/assets/../routes.ts', '/assets/%2e%2e/routes.ts', '/assets/..%2f..%2fpackage.json', '/vendor/package.json', '/vendor/..%2fpreact.mjs', '/assets/nope.js']) {
      const response = await app.inject({ url });
      assert.equal(response.statusCode, 404, url);
    }
  });
});
