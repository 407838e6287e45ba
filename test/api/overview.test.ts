/**
 * GET /api/v1/overview against a real delivery world: one recipient taken,
 * one refused for good (550), one told to try later (451). The numbers and
 * reasons are the ones the MX peer's replies produced; an admin can see every
 * account (and the message log with an account filter), a user only their own.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.ts';
import { startMxPeer, type MxPeer } from '../support/mx-peer.ts';
import { apiClient } from './client.ts';
import { waitFor } from '../support/wait.ts';
import { createAccount } from '../../src/accounts/accounts.ts';

describeEachStore('API overview and the all-accounts message log', (engine) => {
  let mailroom: TestMailroom;
  let dns: TestDnsServer;
  let mx: MxPeer;
  let sender: Awaited<ReturnType<TestMailroom['createSender']>>;
  let other: Awaited<ReturnType<TestMailroom['createSender']>>;
  let adminSecret: string;

  before(async () => {
    dns = await startDnsServer();
    mx = await startMxPeer({ behaviour: {
      rejectRcpt: (address: string) => (address.startsWith('gone@') ? '550 5.1.1 <gone@inbox.example>: user unknown' : address.startsWith('later@') ? '451 4.3.0 mailbox busy, try later' : null),
    } });
    dns.set('inbox.example', 'MX', { exchange: 'mx.inbox.example', priority: 10 });
    dns.set('mx.inbox.example', 'A', '127.0.0.1');
    mailroom = await startTestMailroom(engine, { MAILROOM_DNS_SERVERS: dns.address, MAILROOM_DELIVERY_PORT: String(mx.port), MAILROOM_ROLES: 'http,delivery' });
    sender = await mailroom.createSender();
    other = await mailroom.createSender();
    adminSecret = (await createAccount(mailroom.running.store, { email: 'admin@ops.example', dailyLimit: 10, isAdmin: true })).key.secret;
  });
  after(async () => {
    await mailroom?.stop();
    await Promise.all([mx?.close(), dns?.close()]);
  });

  it('counts what happened, names the main reasons, and shows the queue', async () => {
    const api = apiClient(mailroom.port('http'), sender.secret);
    const sent = await api.post('/api/v1/messages', { from: sender.email, to: ['ok@inbox.example', 'gone@inbox.example', 'later@inbox.example'], subject: 'hi', text: 'hello' });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const overview = await waitFor('one delivered, one bounced, one deferred', async () => {
      const response = await api.get('/api/v1/overview');
      const counts = response.body.deliveries?.counts;
      return counts && counts.delivered === 1 && counts.bounced === 1 && counts.deferred === 1 ? response.body : undefined;
    }, 15_000);
    assert.equal(overview.scope, sender.email);
    assert.deepEqual(overview.sending, { sentLast24h: 3, dailyLimit: 100_000, resetsAt: overview.sending.resetsAt });
    assert.equal(overview.deliveries.deliveryRate, 0.5);
    assert.deepEqual(overview.deliveries.reasons.bounced.map((r: any) => r.count), [1]);
    assert.match(overview.deliveries.reasons.bounced[0].reply, /550 5\.1\.1 .*user unknown/);
    assert.match(overview.deliveries.reasons.deferred[0].reply, /451 4\.3\.0 .*mailbox busy/);
    assert.equal(overview.queue.depth, 1);
    assert.ok(Date.parse(overview.queue.oldestQueuedAt) <= Date.now());
    assert.deepEqual(overview.domainsNeedingAttention, [], 'the sender domains were verified');
    assert.equal(overview.hostWarning, null);
  });

  it('lets an admin read every account (and filter by one); a user only their own', async () => {
    const mine = apiClient(mailroom.port('http'), other.secret);
    assert.equal((await mine.post('/api/v1/messages', { from: other.email, to: 'ok@inbox.example', subject: 'other', text: 'x' })).status, 202);
    const admin = apiClient(mailroom.port('http'), adminSecret);

    const all = await admin.get('/api/v1/messages?account=all');
    assert.equal(all.status, 200);
    // null: the bounce report (DSN) Mailroom itself sent for gone@, which belongs to no account.
    assert.deepEqual(new Set(all.body.items.map((m: any) => m.account)), new Set([sender.email, other.email, null]));
    const one = await admin.get(`/api/v1/messages?account=${encodeURIComponent(other.email)}`);
    assert.deepEqual(one.body.items.map((m: any) => [m.account, m.subject]), [[other.email, 'other']]);
    const detail = await admin.get(`/api/v1/messages/${one.body.items[0].id}`);
    assert.equal(detail.status, 200, 'an admin opens any account\'s message');

    const everything = await admin.get('/api/v1/overview?account=all');
    assert.equal(everything.body.scope, null);
    assert.ok(everything.body.deliveries.counts.delivered + everything.body.deliveries.counts.queued >= 1);

    const refused = await mine.get('/api/v1/messages?account=all');
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.field, 'account');
    const own = await mine.get(`/api/v1/messages?account=${encodeURIComponent(other.email)}`);
    assert.equal(own.status, 200, 'naming yourself is allowed');
    assert.equal((await mine.get(`/api/v1/messages/${all.body.items.find((m: any) => m.account === sender.email).id}`)).status, 404);
  });
});
