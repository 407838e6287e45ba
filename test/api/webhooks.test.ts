import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { recordEvents } from '../../src/queue/message-events.ts';
import { verifySignature } from '../../src/events/webhooks-signature.ts';
import { startWebhookDispatcher } from '../../src/events/webhooks-dispatcher.ts';
import { startQueueWriter } from '../../src/write-operations.ts';
import { apiClient, type ApiClient } from './client.ts';
import { waitFor } from '../support/wait.ts';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
}

/** A webhook endpoint on loopback that records every request and answers `status`. */
async function startReceiver(port = 0): Promise<{ url: string; port: number; received: Received[]; status: number; close(): Promise<void> }> {
  const received: Received[] = [];
  const receiver = {
    url: '', port: 0, received, status: 200,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ headers: request.headers, body, json: JSON.parse(body) });
      response.writeHead(receiver.status).end(receiver.status === 200 ? 'ok' : 'not now');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}/hooks`;
  return receiver;
}

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describeEachStore('API webhooks', (engine) => {
  let m: TestMailroom;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  before(async () => {
    m = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp,http' }, {
      webhooks: { pollIntervalMs: 50, requestTimeoutMs: 2000, retry: { firstDelayMs: 100, maxDelayMs: 400 } },
    });
    receiver = await startReceiver();
  });
  after(async () => {
    await m.stop();
    await receiver.close();
  });

  async function newSender(): Promise<{ api: ApiClient; email: string; accountId: string }> {
    const sender = await m.createSender();
    return { api: apiClient(m.port('http'), sender.secret), email: sender.email, accountId: sender.accountId };
  }

  test('endpoints: create (secret shown once), list, read, delete; bad input is 400 naming the field', async () => {
    const { api } = await newSender();
    const created = await api.post('/api/v1/webhooks', { url: 'https://hooks.example.com/mailroom', events: ['delivered', 'bounced'] });
    assert.equal(created.status, 201);
    assert.deepEqual(Object.keys(created.body).sort(), ['createdAt', 'events', 'id', 'secret', 'url']);
    assert.match(created.body.secret, /^whsec_/);
    const all = await api.post('/api/v1/webhooks', { url: 'https://hooks.example.com/all' });
    assert.deepEqual(all.body.events, ['accepted', 'delivered', 'deferred', 'bounced', 'complained', 'suppressed', 'expired', 'sandboxed', 'scheduled', 'cancelled', 'unsubscribed', 'opened', 'clicked', 'auth.failures']);

    const list = await api.get('/api/v1/webhooks');
    assert.deepEqual(list.body.items.map((w: any) => w.id), [created.body.id, all.body.id]);
    assert.ok(list.body.items.every((w: any) => !('secret' in w)));
    const one = await api.get(`/api/v1/webhooks/${created.body.id}`);
    assert.deepEqual(one.body, { id: created.body.id, url: 'https://hooks.example.com/mailroom', events: ['delivered', 'bounced'], createdAt: created.body.createdAt });

    const badUrl = await api.post('/api/v1/webhooks', { url: 'ftp://example.com/x' });
    assert.deepEqual([badUrl.status, badUrl.body.error.field], [400, 'url']);
    const notUrl = await api.post('/api/v1/webhooks', { url: 'not a url' });
    assert.deepEqual([notUrl.status, notUrl.body.error.code, notUrl.body.error.field], [400, 'invalid_url', 'url']);
    const badEvent = await api.post('/api/v1/webhooks', { url: 'https://x.example/', events: ['delivered', 'teleported'] });
    assert.deepEqual([badEvent.status, badEvent.body.error.field], [400, 'events[1]']);

    assert.equal((await api.del(`/api/v1/webhooks/${created.body.id}`)).status, 204);
    const gone = await api.get(`/api/v1/webhooks/${created.body.id}`);
    assert.deepEqual([gone.status, gone.body.error.code], [404, 'unknown_webhook']);
    const other = await newSender();
    assert.equal((await other.api.get(`/api/v1/webhooks/${all.body.id}`)).status, 404);
    assert.equal((await other.api.del(`/api/v1/webhooks/${all.body.id}`)).status, 404);
  });

  test('the sending features\' events reach webhooks: scheduled and cancelled from a real scheduled send', async () => {
    const sender = await newSender();
    await sender.api.post('/api/v1/webhooks', { url: `${receiver.url}?schedule`, events: ['scheduled', 'cancelled'] });
    const sent = await sender.api.post('/api/v1/messages', { from: sender.email, to: 'later@example.com', text: 't', sendAt: new Date(Date.now() + 3_600_000).toISOString() });
    assert.equal(sent.status, 202);
    assert.equal((await sender.api.del(`/api/v1/messages/${sent.body.id}`)).status, 200);
    const forMessage = () => receiver.received.filter((r) => r.json.messageId === sent.body.id);
    await waitFor('two webhook requests', () => (forMessage().length >= 2 ? true : undefined), 10_000);
    assert.deepEqual(forMessage().map((r) => [r.json.type, r.json.status, r.json.recipient]).sort(),
      [['cancelled', 'cancelled', 'later@example.com'], ['scheduled', 'scheduled', 'later@example.com']]);
  });

  test('events reach a loopback receiver signed with the endpoint secret, only the chosen types', async () => {
    const sender = await newSender();
    const acceptedHook = await sender.api.post('/api/v1/webhooks', { url: `${receiver.url}?accepted`, events: ['accepted'] });
    const bouncedHook = await sender.api.post('/api/v1/webhooks', { url: `${receiver.url}?bounced`, events: ['bounced'] });
    const sent = await sender.api.post('/api/v1/messages', { from: sender.email, to: 'signed@example.com', text: 't' });
    await recordEvents(m.running.store.db, [{
      accountId: sender.accountId, messageId: sent.body.id, deliveryId: null, recipient: 'signed@example.com', type: 'bounced',
      reply: '550 5.1.1 User unknown', bounceClass: 'bad-mailbox', at: Date.now(),
    }]);

    const forMessage = () => receiver.received.filter((r) => r.json.messageId === sent.body.id);
    await waitFor('two webhook requests', () => (forMessage().length >= 2 ? true : undefined), 10_000);
    const [accepted, bounced] = ['accepted', 'bounced'].map((type) => forMessage().find((r) => r.json.type === type)!);
    assert.equal(forMessage().length, 2, 'each endpoint got only its event type');

    assert.deepEqual(Object.keys(accepted.json).sort(), ['bounceClass', 'createdAt', 'domain', 'expiresAt', 'explanation', 'id', 'messageId', 'nextAttemptAt', 'recipient', 'reply', 'status', 'type']);
    assert.equal(accepted.json.explanation, null);
    assert.deepEqual([accepted.json.type, accepted.json.status, accepted.json.recipient], ['accepted', 'queued', 'signed@example.com']);
    assert.deepEqual([bounced.json.status, bounced.json.reply, bounced.json.bounceClass], ['bounced', '550 5.1.1 User unknown', 'bad-mailbox']);
    assert.equal(bounced.json.explanation.summary, "The recipient's server says this mailbox does not exist.");

    const signature = String(accepted.headers['mailroom-signature']);
    assert.match(signature, /^t=\d+,v1=[0-9a-f]{64}$/);
    assert.ok(verifySignature(acceptedHook.body.secret, accepted.body, signature));
    assert.ok(!verifySignature(bouncedHook.body.secret, accepted.body, signature), 'another endpoint\'s secret does not verify');
    assert.ok(!verifySignature(acceptedHook.body.secret, accepted.body + ' ', signature), 'a changed body does not verify');
    assert.ok(verifySignature(bouncedHook.body.secret, bounced.body, String(bounced.headers['mailroom-signature'])));
    assert.equal(accepted.headers['content-type'], 'application/json');

    const log = await waitFor('the delivery log to show delivered', async () => {
      const response = await sender.api.get(`/api/v1/webhooks/${acceptedHook.body.id}/deliveries`);
      return response.body.items[0]?.status === 'delivered' ? response : undefined;
    }, 5000);
    assert.equal(log.body.items.length, 1);
    assert.deepEqual([log.body.items[0].type, log.body.items[0].attemptCount, log.body.items[0].attempts[0].statusCode], ['accepted', 1, 200]);
    assert.equal(log.body.items[0].payload, accepted.body);
  });

  test('POST /webhooks/:id/test sends a signed test event now and says how the endpoint answered', async () => {
    const sender = await newSender();
    const hook = await sender.api.post('/api/v1/webhooks', { url: `${receiver.url}?test`, events: ['delivered'] });
    const ok = await sender.api.post(`/api/v1/webhooks/${hook.body.id}/test`);
    assert.equal(ok.status, 200);
    assert.deepEqual([ok.body.delivered, ok.body.statusCode, ok.body.error], [true, 200, null]);
    const got = receiver.received.find((r) => r.headers['mailroom-delivery'] === ok.body.deliveryId)!;
    assert.equal(got.json.type, 'test');
    assert.ok(verifySignature(hook.body.secret, got.body, String(got.headers['mailroom-signature'])));

    receiver.status = 500;
    try {
      const failing = await sender.api.post(`/api/v1/webhooks/${hook.body.id}/test`);
      assert.deepEqual([failing.body.delivered, failing.body.statusCode], [false, 500]);
      assert.match(failing.body.error, /^HTTP 500/);
    } finally {
      receiver.status = 200;
    }
    const log = await sender.api.get(`/api/v1/webhooks/${hook.body.id}/deliveries?limit=1`);
    assert.deepEqual([log.body.items[0].status, log.body.items[0].attemptCount], ['failed', 1], 'a test is tried once');
    assert.ok(log.body.next);
    const older = await sender.api.get(`/api/v1/webhooks/${hook.body.id}/deliveries?limit=1&cursor=${log.body.next}`);
    assert.equal(older.body.items[0].status, 'delivered');
    assert.equal((await sender.api.post('/api/v1/webhooks/nope/test')).status, 404);
  });

  test('an endpoint that is down for a while still gets every event once it comes up', async () => {
    const sender = await newSender();
    const port = await freePort();
    const hook = await sender.api.post('/api/v1/webhooks', { url: `http://127.0.0.1:${port}/late`, events: ['accepted'] });
    const sent = await sender.api.post('/api/v1/messages', { from: sender.email, to: ['late1@example.com', 'late2@example.com'], text: 't' });

    const failing = await waitFor('two failed attempts per event', async () => {
      const log = await sender.api.get(`/api/v1/webhooks/${hook.body.id}/deliveries`);
      return log.body.items.length === 2 && log.body.items.every((d: any) => d.attemptCount >= 2) ? log : undefined;
    }, 15_000);
    assert.ok(failing.body.items.every((d: any) => d.status === 'pending' && d.nextAttemptAt && /connection failed/.test(d.attempts[0].error)));

    const late = await startReceiver(port);
    try {
      await waitFor('the late receiver to get both events', () => (late.received.length >= 2 ? true : undefined), 15_000);
      assert.deepEqual(late.received.map((r) => r.json.recipient).sort(), ['late1@example.com', 'late2@example.com']);
      assert.ok(late.received.every((r) => r.json.messageId === sent.body.id && verifySignature(hook.body.secret, r.body, String(r.headers['mailroom-signature']))));
      const log = await waitFor('the log to show both delivered', async () => {
        const response = await sender.api.get(`/api/v1/webhooks/${hook.body.id}/deliveries`);
        return response.body.items.every((d: any) => d.status === 'delivered') ? response : undefined;
      }, 5000);
      assert.ok(log.body.items.every((d: any) => d.attempts[0].statusCode === 200 && d.attempts.length >= 3));
    } finally {
      await late.close();
    }
  });

  test('two dispatchers on one store send each event exactly once', async () => {
    // A second node's dispatcher: its writes go through a queue writer of its own.
    const secondWriter = await startQueueWriter(m.running.store, m.running.store.url);
    const second = startWebhookDispatcher({ store: m.running.store, writer: secondWriter, logger: pino({ level: 'silent' }), nodeId: 'second-node', options: { pollIntervalMs: 20, batchSize: 3 } });
    const counting = await startReceiver();
    try {
      const sender = await newSender();
      await sender.api.post('/api/v1/webhooks', { url: counting.url, events: ['accepted'] });
      const recipients = Array.from({ length: 30 }, (_, i) => `many${i}@example.com`);
      for (let i = 0; i < recipients.length; i += 3) {
        await sender.api.post('/api/v1/messages', { from: sender.email, to: recipients.slice(i, i + 3), text: 't' });
      }
      await waitFor('every event', () => (counting.received.length >= recipients.length ? true : undefined), 15_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const ids = counting.received.map((r) => r.json.id);
      assert.equal(ids.length, recipients.length, 'no event was sent twice');
      assert.equal(new Set(ids).size, recipients.length);
    } finally {
      await second.stop();
      await secondWriter.close();
      await counting.close();
    }
  });
});
