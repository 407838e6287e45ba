/**
 * POST /api/v1/messages/batch: one message per recipient with its own
 * variables, every accepted one on disk when the answer comes, failures
 * reported per recipient, and a batch that cannot send anything refused
 * whole with nothing queued.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import type { TestMailroom } from '../support/mailroom.ts';
import { suppress } from '../../src/suppressions/suppressions.ts';
import { MAX_BATCH_RECIPIENTS } from '../../src/api/routes/batch.ts';
import { startWithSender, type ApiClient, type TestSender } from './client.ts';

describeEachStore('API batch sends', (engine) => {
  let m: TestMailroom, api: ApiClient, sender: TestSender;

  before(async () => {
    ({ m, api, sender } = await startWithSender(engine));
    await api.post('/api/v1/templates', { name: 'hello', subject: 'Hello {{ name }}', text: 'Your code is {{ code }}.' });
    await suppress(m.running.store.db, sender.accountId, 'carol@example.com', 'hard-bounce', null);
  });
  after(async () => { await m.stop(); });

  const db = () => m.running.store.db;
  const messageCount = async () => Number((await db().selectFrom('messages').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  test('each recipient becomes its own message with its own variables; failures are reported in place', async () => {
    const response = await api.post('/api/v1/messages/batch', {
      from: sender.email, template: 'hello', tags: ['launch'],
      recipients: [
        { to: 'ann@example.com', variables: { name: 'Ann', code: 'A1' } },
        { to: 'bob@example.com', variables: { code: 'B2' } },
        { to: 'carol@example.com', variables: { name: 'Carol', code: 'C3' } },
        { to: 'Dave <dave@example.com>', variables: { name: 'Dave', code: 'D4' } },
      ],
    });
    assert.equal(response.status, 202, JSON.stringify(response.body));
    assert.equal(response.body.accepted, 2);
    assert.equal(response.body.failed, 2);
    const [ann, bob, carol, dave] = response.body.items;
    assert.equal(bob.error.code, 'missing_variable');
    assert.equal(bob.error.field, 'recipients[1].variables.name');
    assert.equal(carol.error.field, 'recipients[2].to');
    assert.notEqual(ann.id, dave.id);

    // Durable before the answer: both rows are there now, each with only its own recipient and variables.
    for (const [item, address, code] of [[ann, 'ann@example.com', 'A1'], [dave, 'dave@example.com', 'D4']] as const) {
      const row = await db().selectFrom('messages').select(['raw', 'tags']).where('id', '=', item.id).executeTakeFirstOrThrow();
      const raw = Buffer.from(row.raw).toString('utf8');
      assert.match(raw, new RegExp(`\\r\\nTo: .*${address.replace('.', '\\.')}`));
      assert.match(raw, new RegExp(`Your code is ${code}\\.`));
      assert.deepEqual(JSON.parse(row.tags), ['launch']);
      const deliveries = await db().selectFrom('deliveries').select('recipient').where('message_id', '=', item.id).execute();
      assert.deepEqual(deliveries.map((d) => d.recipient), [address]);
    }
    assert.deepEqual((await api.get(`/api/v1/messages/${dave.id}`)).body.template, { name: 'hello', version: 1 });
  });

  test('a batch where nothing can go is a 400 naming the field, and nothing is queued', async () => {
    const before = await messageCount();
    const unknown = await api.post('/api/v1/messages/batch', { from: sender.email, template: 'nope', recipients: [{ to: 'a@example.com' }, { to: 'b@example.com' }] });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error.field, 'template');
    const tooMany = await api.post('/api/v1/messages/batch', {
      from: sender.email, subject: 's', text: 't', recipients: Array.from({ length: MAX_BATCH_RECIPIENTS + 1 }, (_, i) => ({ to: `r${i}@example.com` })),
    });
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body.error.field, 'recipients');
    const badSender = await api.post('/api/v1/messages/batch', { from: 'x@unverified.example', subject: 's', text: 't', recipients: [{ to: 'a@example.com' }] });
    assert.equal(badSender.status, 403);
    assert.equal(badSender.body.error.field, 'from');
    assert.equal(await messageCount(), before);
  });

  test('a retried batch with the same Idempotency-Key answers the same ids and queues nothing more', async () => {
    const body = { from: sender.email, subject: 'once', text: 't', recipients: [{ to: 'x@example.com' }, { to: 'y@example.com' }] };
    const first = await api.post('/api/v1/messages/batch', body, { 'idempotency-key': 'batch-7' });
    const count = await messageCount();
    const again = await api.post('/api/v1/messages/batch', body, { 'idempotency-key': 'batch-7' });
    assert.deepEqual(again.body.items, first.body.items);
    assert.equal(await messageCount(), count);
  });

  test('many recipients in one call: one id each, all durable', async () => {
    const recipients = Array.from({ length: 300 }, (_, i) => ({ to: `bulk${i}@example.com`, variables: { name: `N${i}`, code: String(i) } }));
    const response = await api.post('/api/v1/messages/batch', { from: sender.email, template: 'hello', recipients });
    assert.equal(response.status, 202);
    assert.equal(response.body.accepted, 300);
    const ids = response.body.items.map((item: { id: string }) => item.id);
    assert.equal(new Set(ids).size, 300);
    const stored = await db().selectFrom('messages').select('id').where('id', 'in', ids).execute();
    assert.equal(stored.length, 300);
  });
});
