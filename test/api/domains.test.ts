import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.ts';
import { createAccount } from '../../src/accounts/accounts.ts';
import { apiClient, type ApiClient } from './client.ts';

describeEachStore('API domains', (engine) => {
  let m: TestMailroom;
  let dns: TestDnsServer;
  let api: ApiClient;

  before(async () => {
    dns = await startDnsServer();
    m = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp,http', MAILROOM_DNS_SERVERS: dns.address });
    const { key } = await createAccount(m.running.store, { email: 'owner@example.org', dailyLimit: 100 });
    api = apiClient(m.port('http'), key.secret);
  });
  after(async () => {
    await m.stop();
    await dns.close();
  });

  test('adding a domain answers the records to publish, like `domains add --json`', async () => {
    const added = await api.post('/api/v1/domains', { name: 'Shop.Example.com' });
    assert.equal(added.status, 201);
    assert.deepEqual(Object.keys(added.body).sort(), ['domain', 'records']);
    assert.deepEqual(added.body.domain, { name: 'shop.example.com', verified: false });
    assert.deepEqual(added.body.records.map((r: any) => r.purpose), ['dkim', 'spf', 'return-path', 'dmarc']);
    for (const record of added.body.records) assert.deepEqual(Object.keys(record).sort(), ['name', 'purpose', 'type', 'value']);
    assert.deepEqual(added.body.records[2], { purpose: 'return-path', type: 'CNAME', name: 'bounces.shop.example.com', value: 'mailroom.test' });

    const again = await api.post('/api/v1/domains', { name: 'shop.example.com' });
    assert.deepEqual([again.status, again.body.error.code, again.body.error.field], [409, 'domain_exists', 'name']);
    const invalid = await api.post('/api/v1/domains', { name: 'not a domain' });
    assert.deepEqual([invalid.status, invalid.body.error.code, invalid.body.error.field], [400, 'invalid_domain', 'name']);
    const missing = await api.post('/api/v1/domains', {});
    assert.deepEqual([missing.status, missing.body.error.field], [400, 'name']);
  });

  test('verify looks the records up, like `domains verify --json`, and GET shows the last check', async () => {
    const added = await api.post('/api/v1/domains', { name: 'verify-me.example' });
    const before = await api.post('/api/v1/domains/verify-me.example/verify');
    assert.equal(before.status, 200);
    assert.deepEqual(Object.keys(before.body).sort(), ['domain', 'records', 'verified']);
    assert.equal(before.body.verified, false);
    assert.ok(before.body.records.every((r: any) => r.ok === false && typeof r.error === 'string' && Array.isArray(r.found) && r.expected));

    dns.publish(added.body.records);
    dns.set('mailroom.test', 'A', '127.0.0.1');
    dns.set('mailroom.test', 'A', '127.0.0.1');
    const after = await api.post('/api/v1/domains/verify-me.example/verify');
    assert.deepEqual([after.body.domain, after.body.verified], ['verify-me.example', true]);
    assert.ok(after.body.records.every((r: any) => r.ok && !('error' in r)));

    const detail = await api.get('/api/v1/domains/verify-me.example');
    assert.equal(detail.status, 200);
    assert.equal(detail.body.domain.verified, true);
    assert.equal(detail.body.domain.verifiedBy, 'dns');
    assert.deepEqual(detail.body.records, added.body.records);
    assert.ok(Date.parse(detail.body.lastCheck.at) > 0);
    assert.equal(detail.body.lastCheck.records.length, 5, 'four records and the server host name');

    const list = await api.get('/api/v1/domains');
    assert.deepEqual(list.body.items.map((d: any) => [d.name, d.verified]), [['shop.example.com', false], ['verify-me.example', true]]);
    const firstPage = await api.get('/api/v1/domains?limit=1');
    assert.deepEqual(firstPage.body.items.map((d: any) => d.name), ['shop.example.com']);
    const secondPage = await api.get(`/api/v1/domains?limit=1&cursor=${firstPage.body.next}`);
    assert.deepEqual(secondPage.body.items.map((d: any) => d.name), ['verify-me.example']);
    assert.equal(secondPage.body.next, undefined);
  });

  test("delete removes a domain; unknown and other accounts' domains are 404", async () => {
    await api.post('/api/v1/domains', { name: 'temporary.example' });
    assert.equal((await api.del('/api/v1/domains/temporary.example')).status, 204);
    const gone = await api.get('/api/v1/domains/temporary.example');
    assert.deepEqual([gone.status, gone.body.error.code, gone.body.error.field], [404, 'unknown_domain', 'name']);
    assert.equal((await api.del('/api/v1/domains/temporary.example')).status, 404);
    assert.equal((await api.post('/api/v1/domains/temporary.example/verify')).status, 404);

    const { key } = await createAccount(m.running.store, { email: 'other@example.org', dailyLimit: 100 });
    const other = apiClient(m.port('http'), key.secret);
    assert.equal((await other.get('/api/v1/domains/shop.example.com')).status, 404);
    assert.equal((await other.del('/api/v1/domains/shop.example.com')).status, 404);
    assert.deepEqual((await other.get('/api/v1/domains')).body.items, []);
  });
});
