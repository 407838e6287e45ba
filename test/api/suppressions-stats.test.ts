import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { recordEvents, type EventType } from '../../src/queue/message-events.ts';
import { apiClient, type ApiClient } from './client.ts';

describeEachStore('API suppressions and stats', (engine) => {
  let m: TestMailroom;
  let api: ApiClient;
  let sender: { email: string; secret: string; accountId: string };

  before(async () => {
    m = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp,http' });
    sender = await m.createSender();
    api = apiClient(m.port('http'), sender.secret);
  });
  after(async () => { await m.stop(); });

  test('suppressions: add, read, list with a cursor, remove', async () => {
    const added = await api.post('/api/v1/suppressions', { address: 'Bounce@Example.com', reason: 'hard-bounce' });
    assert.equal(added.status, 201);
    assert.deepEqual(Object.keys(added.body).sort(), ['address', 'createdAt', 'reason']);
    assert.deepEqual([added.body.address, added.body.reason], ['bounce@example.com', 'hard-bounce']);
    const again = await api.post('/api/v1/suppressions', { address: 'bounce@example.com' });
    assert.deepEqual([again.status, again.body.reason], [200, 'hard-bounce'], 'adding twice keeps the first reason');
    assert.equal((await api.post('/api/v1/suppressions', { address: 'c@example.com' })).body.reason, 'manual');
    await api.post('/api/v1/suppressions', { address: 'a@example.com' });

    const one = await api.get('/api/v1/suppressions/bounce@example.com');
    assert.deepEqual([one.status, one.body.address], [200, 'bounce@example.com']);
    const firstPage = await api.get('/api/v1/suppressions?limit=2');
    assert.deepEqual(Object.keys(firstPage.body).sort(), ['items', 'next']);
    assert.deepEqual(firstPage.body.items.map((s: any) => s.address), ['a@example.com', 'bounce@example.com']);
    const secondPage = await api.get(`/api/v1/suppressions?limit=2&cursor=${firstPage.body.next}`);
    assert.deepEqual(secondPage.body, { items: [{ address: 'c@example.com', reason: 'manual', createdAt: secondPage.body.items[0].createdAt }] });

    assert.equal((await api.del('/api/v1/suppressions/bounce@example.com')).status, 204);
    const gone = await api.get('/api/v1/suppressions/bounce@example.com');
    assert.deepEqual([gone.status, gone.body.error.code], [404, 'unknown_suppression']);
    const deleteAgain = await api.del('/api/v1/suppressions/bounce@example.com');
    assert.deepEqual([deleteAgain.status, deleteAgain.body.error.field], [404, 'email']);
    const invalid = await api.post('/api/v1/suppressions', { address: 'nope' });
    assert.deepEqual([invalid.status, invalid.body.error.field], [400, 'address']);
  });

  test('stats count events per hour bucket from the event stream', async () => {
    const hour = 3_600_000;
    const start = Math.floor(Date.now() / hour) * hour - 3 * hour;
    const at = (h: number, type: EventType) => ({ accountId: sender.accountId, messageId: 'm', deliveryId: null, recipient: 'r@example.com', type, at: start + h * hour + 60_000 });
    await recordEvents(m.running.store.db, [
      at(0, 'accepted'), at(0, 'accepted'), at(0, 'delivered'), at(1, 'deferred'), at(1, 'bounced'), at(2, 'accepted'),
      { ...at(0, 'accepted'), accountId: 'someone-else' },
    ]);
    const from = new Date(start).toISOString();
    const to = new Date(start + 3 * hour).toISOString();
    const response = await api.get(`/api/v1/stats?interval=hour&from=${from}&to=${to}`);
    assert.equal(response.status, 200);
    assert.deepEqual(response.body.buckets.map((b: any) => [b.start, b.accepted, b.delivered, b.deferred, b.bounced]), [
      [from, 2, 1, 0, 0], [new Date(start + hour).toISOString(), 0, 0, 1, 1], [new Date(start + 2 * hour).toISOString(), 1, 0, 0, 0],
    ]);
    assert.deepEqual([response.body.totals.accepted, response.body.totals.bounced], [3, 1]);

    const daily = await api.get('/api/v1/stats?interval=day');
    assert.equal(daily.body.interval, 'day');
    assert.equal(daily.body.buckets.length, 31);
    const badInterval = await api.get('/api/v1/stats?interval=week');
    assert.deepEqual([badInterval.status, badInterval.body.error.field], [400, 'interval']);
    const badTime = await api.get('/api/v1/stats?from=yesterday');
    assert.deepEqual([badTime.status, badTime.body.error.field], [400, 'from']);
    const reversed = await api.get(`/api/v1/stats?interval=hour&from=${to}&to=${from}`);
    assert.deepEqual([reversed.status, reversed.body.error.field], [400, 'from']);
  });
});
