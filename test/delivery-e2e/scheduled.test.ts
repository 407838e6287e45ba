/**
 * Scheduled sends end to end, with a delivery worker and a real MX peer: a
 * message with `sendAt` is durable and `scheduled` at once, reaches the MX
 * no earlier than its time, and can be cancelled until then (DELETE or POST
 * …/cancel); bad times are 400s naming sendAt with nothing queued.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { routeDomainToPeer, startDeliveryWorld, type DeliveryWorld } from '../support/delivery-world.ts';
import { apiClient, type ApiClient } from '../api/client.ts';
import { waitFor } from '../support/wait.ts';

describeEachStore('scheduled sends', (engine) => {
  let world: DeliveryWorld;
  let api: ApiClient;

  before(async () => {
    world = await startDeliveryWorld(engine);
    routeDomainToPeer(world.dns, 'dest.example');
    api = apiClient(world.mailroom.port('http'), world.sender.secret);
  });
  after(async () => { await world?.close(); });

  const status = async (id: string) => (await api.get(`/api/v1/messages/${id}`)).body.recipients[0].status;
  const messageCount = async () => Number((await world.mailroom.running.store.db.selectFrom('messages').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();

  test('a scheduled message waits as scheduled and reaches the MX no earlier than its time', async () => {
    const sendAt = inSeconds(2);
    const response = await api.post('/api/v1/messages', { from: world.sender.email, to: 'later@dest.example', subject: 'later', text: 't', sendAt });
    assert.equal(response.status, 202);
    assert.equal(await status(response.body.id), 'scheduled');
    const [received] = await world.mx.waitFor(1, 15_000);
    assert.deepEqual(received.rcptTo, ['later@dest.example']);
    assert.ok(received.at >= Date.parse(sendAt), `arrived ${received.at - Date.parse(sendAt)} ms before its time`);
    await waitFor('delivered', async () => ((await status(response.body.id)) === 'delivered' ? true : undefined), 10_000);
  });

  test('cancelled before its time, it is never sent; after, cancelling is a 409', async () => {
    const first = await api.post('/api/v1/messages', { from: world.sender.email, to: ['x@dest.example', 'y@dest.example'], subject: 'no', text: 't', sendAt: inSeconds(2) });
    const second = await api.post('/api/v1/messages', { from: world.sender.email, to: 'z@dest.example', subject: 'no', text: 't', sendAt: inSeconds(2) });
    const cancelled = await api.del(`/api/v1/messages/${first.body.id}`);
    assert.equal(cancelled.status, 200);
    assert.deepEqual(cancelled.body.cancelled.sort(), ['x@dest.example', 'y@dest.example']);
    const viaPost = await api.post(`/api/v1/messages/${second.body.id}/cancel`);
    assert.deepEqual(viaPost.body.cancelled, ['z@dest.example']);
    assert.equal(await status(first.body.id), 'cancelled');
    assert.equal((await api.del(`/api/v1/messages/${first.body.id}`)).status, 409, 'nothing left to cancel');
    assert.equal((await api.del('/api/v1/messages/nosuchid')).status, 404);

    // A control scheduled for the same moment goes out; the cancelled ones never do.
    const before = world.mx.transmitted.length;
    const control = await api.post('/api/v1/messages', { from: world.sender.email, to: 'control@dest.example', subject: 'yes', text: 't', sendAt: inSeconds(2) });
    await world.mx.waitFor(before + 1, 15_000);
    await waitFor('control delivered', async () => ((await status(control.body.id)) === 'delivered' ? true : undefined), 10_000);
    assert.deepEqual(world.mx.transmitted.slice(before).map((m) => m.rcptTo), [['control@dest.example']]);
    assert.equal((await api.del(`/api/v1/messages/${control.body.id}`)).status, 409, 'too late once sent');

    const events = await world.mailroom.running.store.db.selectFrom('message_events').select('type').where('message_id', '=', second.body.id).orderBy('id').execute();
    assert.deepEqual(events.map((e) => e.type), ['accepted', 'scheduled', 'cancelled']);
  });

  test('sendAt in the past, too far ahead or not a time is a 400 naming it, and nothing is queued', async () => {
    const before = await messageCount();
    const base = { from: world.sender.email, to: 'a@dest.example', subject: 's', text: 't' };
    for (const [sendAt, code] of [[inSeconds(-60), 'send_at_in_past'], [inSeconds(4 * 86_400), 'send_at_too_far'], ['tomorrow', 'invalid_send_at']]) {
      const response = await api.post('/api/v1/messages', { ...base, sendAt });
      assert.equal(response.status, 400, sendAt);
      assert.equal(response.body.error.code, code);
      assert.equal(response.body.error.field, 'sendAt');
    }
    const batch = await api.post('/api/v1/messages/batch', { from: world.sender.email, subject: 's', text: 't', sendAt: inSeconds(-1), recipients: [{ to: 'a@dest.example' }] });
    assert.equal(batch.status, 400);
    assert.equal(batch.body.error.field, 'sendAt');
    assert.equal(await messageCount(), before);
  });
});
