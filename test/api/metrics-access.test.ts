/**
 * /metrics is not open to the world by default: without MAILROOM_METRICS_TOKEN
 * it answers clients on this host only (403 for others); with a token it
 * answers `Authorization: Bearer <token>` and nothing else (401). The
 * "elsewhere" client is this machine's own non-loopback address, bound on
 * both ends, so the service sees a non-loopback peer.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { networkInterfaces } from 'node:os';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';

const outside = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

function scrape(host: string, port: number, localAddress: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host, port, localAddress, path: '/metrics', headers: token ? { authorization: `Bearer ${token}` } : {} }, (response) => {
      let body = '';
      response.on('data', (chunk) => { body += chunk; });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

describeEachStore('who may read /metrics', (engine) => {
  let open: TestMailroom;
  let tokened: TestMailroom;
  before(async () => {
    open = await startTestMailroom(engine, { MAILROOM_ROLES: 'http', MAILROOM_HTTP_HOST: '0.0.0.0' });
    tokened = await startTestMailroom(engine, { MAILROOM_ROLES: 'http', MAILROOM_HTTP_HOST: '0.0.0.0', MAILROOM_METRICS_TOKEN: 'scrape-me-0123456789' });
  });
  after(async () => {
    await open?.stop();
    await tokened?.stop();
  });

  test('without a token: loopback clients only', { skip: outside ? false : 'no non-loopback IPv4 address on this machine' }, async () => {
    const local = await scrape('127.0.0.1', open.port('http'), '127.0.0.1');
    assert.equal(local.status, 200);
    assert.match(local.body, /^mailroom_queue_depth /m);
    const remote = await scrape(outside!, open.port('http'), outside!);
    assert.equal(remote.status, 403);
    assert.deepEqual(JSON.parse(remote.body).error.code, 'metrics_loopback_only');
  });

  test('with MAILROOM_METRICS_TOKEN: the token, from anywhere, and nothing else', async () => {
    const from = outside ?? '127.0.0.1';
    assert.equal((await scrape(from, tokened.port('http'), from)).status, 401);
    assert.equal((await scrape('127.0.0.1', tokened.port('http'), '127.0.0.1', 'wrong-token')).status, 401, 'loopback needs it too');
    const right = await scrape(from, tokened.port('http'), from, 'scrape-me-0123456789');
    assert.equal(right.status, 200);
    assert.match(right.body, /^mailroom_queue_depth /m);
  });
});
