/**
 * Reports by tag, recipient domain and template, per period or overall, as
 * JSON and CSV, counted from the same events the message log records.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import type { TestMailroom } from '../support/mailroom.ts';
import { recordEvents } from '../../src/queue/message-events.ts';
import { startWithSender, type ApiClient, type TestSender } from './client.ts';

describeEachStore('API reports', (engine) => {
  let m: TestMailroom, api: ApiClient, sender: TestSender;

  before(async () => {
    ({ m, api, sender } = await startWithSender(engine));
    await api.post('/api/v1/templates', { name: 'welcome', subject: 'Hi {{ n }}', text: 't' });
    const spring1 = await api.post('/api/v1/messages', { from: sender.email, to: 'a@x.example', subject: 's', text: 't', tags: ['spring', 'promo'] });
    await api.post('/api/v1/messages', { from: sender.email, to: 'b@y.example', subject: 's', text: 't', tags: ['spring'] });
    await api.post('/api/v1/messages', { from: sender.email, to: 'c@X.example', template: 'welcome', variables: { n: 1 } });
    // What delivery and a reader would add later, written through the same event recorder.
    const now = Date.now();
    await recordEvents(m.running.store.db, [
      { accountId: sender.accountId, messageId: spring1.body.id, deliveryId: null, recipient: 'a@x.example', type: 'delivered', at: now },
      { accountId: sender.accountId, messageId: spring1.body.id, deliveryId: null, recipient: 'a@x.example', type: 'opened', at: now },
    ]);
  });
  after(async () => { await m.stop(); });

  const pick = (rows: any[]) => rows.map((r) => [r.key, r.sent, r.delivered, r.opened]);

  test('by tag, by recipient domain and by template, over the whole range', async () => {
    const byTag = await api.get('/api/v1/reports?by=tag&period=all');
    assert.equal(byTag.status, 200, JSON.stringify(byTag.body));
    assert.deepEqual(pick(byTag.body.rows), [['(none)', 1, 0, 0], ['promo', 1, 1, 1], ['spring', 2, 1, 1]]);
    assert.equal(byTag.body.rows[0].period, null);

    const byDomain = await api.get('/api/v1/reports?by=domain&period=all');
    assert.deepEqual(pick(byDomain.body.rows), [['x.example', 2, 1, 1], ['y.example', 1, 0, 0]]);

    const byTemplate = await api.get('/api/v1/reports?by=template&period=all');
    assert.deepEqual(pick(byTemplate.body.rows), [['(none)', 2, 1, 1], ['welcome', 1, 0, 0]]);
  });

  test('per day, and as CSV', async () => {
    const daily = await api.get('/api/v1/reports?by=domain&period=day');
    const today = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000).toISOString();
    assert.deepEqual(daily.body.rows.map((r: any) => [r.period, r.key, r.sent]), [[today, 'x.example', 2], [today, 'y.example', 1]]);

    const csv = await api.get('/api/v1/reports?by=tag&period=all&format=csv');
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type')!, /^text\/csv/);
    assert.equal(csv.body, [
      'period,tag,sent,delivered,deferred,bounced,complained,opened,clicked,unsubscribed',
      ',(none),1,0,0,0,0,0,0,0', ',promo,1,1,0,0,0,1,0,0', ',spring,2,1,0,0,0,1,0,0', '',
    ].join('\r\n'));
  });

  test('bad input is a 400 naming the field', async () => {
    assert.equal((await api.get('/api/v1/reports?by=colour')).body.error.field, 'by');
    assert.equal((await api.get('/api/v1/reports?by=tag&from=yesterday')).body.error.field, 'from');
    assert.equal((await api.get('/api/v1/reports?by=tag&from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z')).status, 400);
  });
});
