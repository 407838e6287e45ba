import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { createAccount } from '../../src/accounts/accounts.ts';
import { addSiteStats, applySignal } from '../../src/queue/shaping-store.ts';
import { GMAIL_RATE_LIMITED } from '../support/throttling-mx.ts';
import { apiClient, type ApiClient } from './client.ts';

describeEachStore('API destinations', (engine) => {
  let m: TestMailroom;
  let admin: ApiClient;
  let user: ApiClient;

  before(async () => {
    m = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp,http', MAILROOM_DESTINATION_CONCURRENCY: '10' });
    const { key: adminKey } = await createAccount(m.running.store, { email: 'root@example.com', dailyLimit: 10, isAdmin: true });
    admin = apiClient(m.port('http'), adminKey.secret);
    user = apiClient(m.port('http'), (await m.createSender()).secret);
    // What a delivery node writes when Gmail throttles it, through the same store functions.
    const now = Date.now();
    await m.running.store.db.transaction().execute(async (tx) => {
      await applySignal(tx, engine, { site: 'google', signal: 'throttle', suspendMs: 0, now, observedRate: 30, defaultConcurrency: 10, reply: GMAIL_RATE_LIMITED, rule: 'gmail-rate-limit' });
      await addSiteStats(tx, engine, { now, sites: [{ site: 'google', delivered: 40, deferred: 1, bounced: 2, throttled: 3, held: 7, domains: ['gmail.com', 'example.org'] }] });
      await addSiteStats(tx, engine, { now, sites: [{ site: 'mx.quiet.example', delivered: 5, deferred: 0, bounced: 0, throttled: 0, held: 0, domains: ['quiet.example'] }] });
    });
  });
  after(async () => { await m.stop(); });

  test('administrators see every site: its limits, the reply behind the last change, its statistics', async () => {
    const response = await admin.get('/api/v1/destinations');
    assert.equal(response.status, 200);
    assert.deepEqual(response.body.items.map((d: any) => d.site), ['google', 'mx.quiet.example']);
    const [google, quiet] = response.body.items;
    assert.equal(google.rate, 21, '70% of the 30 msgs/s it was getting');
    assert.equal(google.concurrency, 7);
    assert.deepEqual(google.learnt, { concurrency: 7, rate: 21 });
    assert.deepEqual(google.pinned, { concurrency: null, rate: null });
    assert.equal(google.lastChange.kind, 'decreased');
    assert.equal(google.lastChange.reply, GMAIL_RATE_LIMITED);
    assert.equal(google.lastChange.rule, 'gmail-rate-limit');
    assert.deepEqual(google.stats, { delivered: 40, deferred: 1, bounced: 2, throttled: 3, heldBack: 7 });
    assert.deepEqual(google.domains.sort(), ['example.org', 'gmail.com']);
    assert.equal(quiet.rate, null, 'nothing learnt: no limit');
    assert.equal(quiet.concurrency, 10, 'the default, per delivery node');
    assert.equal(quiet.lastChange, null);

    const paged = await admin.get('/api/v1/destinations?limit=1');
    assert.equal(paged.body.items.length, 1);
    const next = await admin.get(`/api/v1/destinations?limit=1&cursor=${paged.body.next}`);
    assert.equal(next.body.items[0].site, 'mx.quiet.example');
  });

  test('an account that is not an administrator gets 403', async () => {
    const response = await user.get('/api/v1/destinations');
    assert.equal(response.status, 403);
    assert.equal((await user.call('PUT', '/api/v1/destinations/google/pin', { body: { rate: 1 } })).status, 403);
  });

  test('operators pin a limit over what was learnt, and lift it again', async () => {
    const pinned = await admin.call('PUT', '/api/v1/destinations/google/pin', { body: { concurrency: 2, rate: 4.5 } });
    assert.equal(pinned.status, 200);
    assert.equal(pinned.body.concurrency, 2);
    assert.equal(pinned.body.rate, 4.5);
    assert.deepEqual(pinned.body.learnt, { concurrency: 7, rate: 21 }, 'what shaping learnt is kept beside the pin');
    assert.equal(pinned.body.lastChange.kind, 'pinned');
    // Changing one pin keeps the other.
    const ratePin = await admin.call('PUT', '/api/v1/destinations/google/pin', { body: { rate: 6 } });
    assert.deepEqual(ratePin.body.pinned, { concurrency: 2, rate: 6 });
    assert.equal(ratePin.body.rate, 6);

    const newSite = await admin.call('PUT', `/api/v1/destinations/${encodeURIComponent('mx1.new.example,mx2.new.example')}/pin`, { body: { concurrency: 1 } });
    assert.equal(newSite.status, 200, 'a site may be pinned before any mail went there');
    assert.equal(newSite.body.concurrency, 1);

    assert.equal((await admin.del('/api/v1/destinations/google/pin')).status, 204);
    const lifted = await admin.get('/api/v1/destinations/google');
    assert.deepEqual(lifted.body.pinned, { concurrency: null, rate: null });
    assert.equal(lifted.body.rate, 21);
  });

  test('bad pins and unknown sites get clear errors', async () => {
    const empty = await admin.call('PUT', '/api/v1/destinations/google/pin', { body: {} });
    assert.equal(empty.status, 400);
    assert.equal(empty.body.error.code, 'invalid_pin');
    const zero = await admin.call('PUT', '/api/v1/destinations/google/pin', { body: { concurrency: 0 } });
    assert.equal(zero.status, 400);
    assert.equal(zero.body.error.field, 'concurrency');
    const negative = await admin.call('PUT', '/api/v1/destinations/google/pin', { body: { rate: -1 } });
    assert.equal(negative.status, 400);
    assert.equal(negative.body.error.field, 'rate');
    assert.equal((await admin.del('/api/v1/destinations/nowhere.example/pin')).status, 404);
    const unknown = await admin.get('/api/v1/destinations/nowhere.example');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'unknown_destination');
  });

  test('/metrics shows the limits of shaped sites, and leaves sites at their defaults out', async () => {
    const body = (await apiClient(m.port('http'), null).get('/metrics')).body as string;
    assert.match(body, /^mailroom_site_rate\{site="google"\} 21$/m);
    assert.match(body, /^mailroom_site_concurrency\{site="google"\} 7$/m);
    assert.match(body, /^mailroom_site_suspended\{site="google"\} 0$/m);
    assert.doesNotMatch(body, /site="mx\.quiet\.example"/);
  });
});
