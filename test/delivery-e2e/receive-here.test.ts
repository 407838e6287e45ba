/**
 * "Receive here", end to end on both stores: an address turned on for a
 * verified domain receives Gmail's "Send mail as" confirmation at the mx
 * listener, and the API shows it with the code and link found; every other
 * address (unknown, turned off, another domain) is refused with the mx
 * listener's usual 550 5.1.1. Forwarding queues a new message that a loopback
 * MX receives, and retention deletes caught mail once its time is up. A
 * webhook asking for `mail_caught` hears of each caught message with its code.
 */
import { after, before, test } from 'node:test';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import PostalMime from 'postal-mime';
import { describeEachStore } from '../support/stores.ts';
import { routeDomainToPeer, startDeliveryWorld, type DeliveryWorld } from '../support/delivery-world.ts';
import { apiClient, type ApiClient } from '../api/client.ts';
import { smtpTransaction, waitForMessage } from '../support/delivery.ts';
import { waitFor } from '../support/wait.ts';
import { Replies, formatReply } from '../../src/smtp/replies.ts';
import { addDomain } from '../../src/domains/domains.ts';
import { GMAIL_CODE, GMAIL_LINK, gmailConfirmation } from '../support/gmail-confirmation.ts';

const DAY = 86_400_000;

describeEachStore('receive here: verification mail caught for you', (engine) => {
  let world: DeliveryWorld;
  let api: ApiClient;
  let mxPort: number;
  let alias: string;
  const hooks: any[] = [];
  let hookServer: http.Server;

  before(async () => {
    hookServer = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => { body += chunk; });
      request.on('end', () => { hooks.push(JSON.parse(body)); response.end('ok'); });
    });
    await new Promise<void>((resolve) => hookServer.listen(0, '127.0.0.1', resolve));
    world = await startDeliveryWorld(engine, {
      env: { MAILROOM_MX_PORT: '0', MAILROOM_MX_GREETING_DELAY: 'off', MAILROOM_CAUGHT_MAIL_RETENTION: '7d' },
      start: { webhooks: { pollIntervalMs: 100 } },
    });
    api = apiClient(world.mailroom.port('http'), world.sender.secret);
    mxPort = world.mailroom.port('mx');
    alias = `you@${world.sender.domain}`;
    const hook = await api.post('/api/v1/webhooks', { url: `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/hooks`, events: ['mail_caught'] });
    assert.equal(hook.status, 201, JSON.stringify(hook.body));
  });
  after(async () => {
    await world?.close();
    await new Promise((resolve) => hookServer?.close(resolve));
  });

  const fromGmail = (to: string) => smtpTransaction(mxPort, { from: 'forwarding-noreply@google.com', to: [to] }, gmailConfirmation(to));

  test('turns on for an address on a verified domain and shows the MX record to publish', async () => {
    const on = await api.post('/api/v1/receive-here', { address: alias.toUpperCase() });
    assert.equal(on.status, 201, JSON.stringify(on.body));
    assert.equal(on.body.address, alias);
    assert.deepEqual(on.body.mx, { type: 'MX', name: world.sender.domain, value: 'mailroom.test', priority: 10 });
    const sub = await api.post('/api/v1/receive-here', { address: `gmail@rx.${world.sender.domain}` });
    assert.equal(sub.status, 201, 'a subdomain of a verified domain');
    assert.equal(sub.body.mx.name, `rx.${world.sender.domain}`);
    const list = await api.get('/api/v1/receive-here');
    assert.deepEqual(list.body.items.map((a: any) => a.address), [`gmail@rx.${world.sender.domain}`, alias], 'in address order');
    assert.equal(list.body.retentionSeconds, 7 * 86_400);
    assert.equal(list.body.mxListening, true);
  });

  test("refuses an address that is not one, outside the account (another account's subdomain too), on an unverified domain, or already on — naming the field", async () => {
    const other = await world.mailroom.createSender({ domain: 'someone-else.example' });
    await world.mailroom.createSender({ domain: `shop.${world.sender.domain}` });
    await addDomain(world.mailroom.running.store, world.sender.accountId, 'unverified.example', 'mailroom.test');
    const cases: Array<[unknown, number, string, string]> = [
      [{ address: 'not an address' }, 400, 'invalid_address', 'address'],
      [{ address: 'you@someone-else.example' }, 400, 'address_outside_domains', 'address'],
      [{ address: 'you@gmail.com' }, 400, 'address_outside_domains', 'address'],
      [{ address: `you@not-${world.sender.domain}` }, 400, 'address_outside_domains', 'address'],
      [{ address: `you@shop.${world.sender.domain}` }, 400, 'address_outside_domains', 'address'],
      [{ address: `you@in.shop.${world.sender.domain}` }, 400, 'address_outside_domains', 'address'],
      [{ address: 'you@unverified.example' }, 400, 'domain_not_verified', 'address'],
      [{ address: alias }, 409, 'receive_address_exists', 'address'],
      [{}, 400, 'invalid_request', 'address'],
    ];
    for (const [body, status, code, field] of cases) {
      const answer = await api.post('/api/v1/receive-here', body);
      assert.deepEqual([answer.status, answer.body.error?.code, answer.body.error?.field], [status, code, field], JSON.stringify([body, answer.body]));
    }
    assert.equal((await apiClient(world.mailroom.port('http'), other.secret).post('/api/v1/receive-here', { address: alias })).status, 400, "another account cannot take this account's address");
  });

  let caughtId: string;

  test("catches Gmail's confirmation at the mx listener and shows the code and link", async () => {
    const result = await fromGmail(alias);
    assert.ok(result.ok, JSON.stringify(result));
    const id = /^250 2\.0\.0 received as (\S+)$/.exec(result.response)?.[1];
    assert.ok(id, result.response);
    const list = await api.get('/api/v1/caught-messages');
    assert.equal(list.status, 200);
    const [caught] = list.body.items;
    assert.equal(caught.id, id);
    assert.equal(caught.recipient, alias);
    assert.equal(caught.mailFrom, 'forwarding-noreply@google.com');
    assert.equal(caught.from, 'forwarding-noreply@google.com');
    assert.equal(caught.subject, `(#${GMAIL_CODE}) Gmail Confirmation - Send Mail as ${alias}`);
    assert.equal(caught.code, GMAIL_CODE);
    assert.equal(caught.link, GMAIL_LINK);
    assert.equal(caught.forwarded, null);
    const kept = Date.parse(caught.expiresAt) - Date.parse(caught.receivedAt);
    assert.equal(kept, 7 * DAY, 'kept for MAILROOM_CAUGHT_MAIL_RETENTION');
    const detail = await api.get(`/api/v1/caught-messages/${id}`);
    assert.match(detail.body.text, new RegExp(`Confirmation code: ${GMAIL_CODE}`));
    caughtId = id;
    const event = await waitFor('the mail_caught webhook', () => hooks.find((h) => h.type === 'mail_caught'));
    assert.equal(event.recipient, alias);
    assert.deepEqual(event.caught, { id, from: 'forwarding-noreply@google.com', subject: caught.subject, code: GMAIL_CODE, link: GMAIL_LINK });
    const stranger = await world.mailroom.createSender({ domain: 'stranger.example' });
    assert.equal((await apiClient(world.mailroom.port('http'), stranger.secret).get(`/api/v1/caught-messages/${id}`)).status, 404, "another account cannot read it");
  });

  test('refuses every other address with the usual reply, and an address once it is turned off', async () => {
    const refused = formatReply(Replies.mxUnknownRecipient('x'));
    const refusedFor = (address: string) => formatReply(Replies.mxUnknownRecipient(address));
    assert.match(refused, /^550 5\.1\.1 /);
    for (const address of [`someone-else@${world.sender.domain}`, 'you@gmail.com', `you@other.${world.sender.domain}`]) {
      const result = await fromGmail(address);
      assert.ok(!result.ok && result.response === refusedFor(address), `${address}: ${JSON.stringify(result)}`);
    }
    const gone = await api.del(`/api/v1/receive-here/${encodeURIComponent(`gmail@rx.${world.sender.domain}`)}`);
    assert.equal(gone.status, 204);
    const off = await fromGmail(`gmail@rx.${world.sender.domain}`);
    assert.ok(!off.ok && off.response === refusedFor(`gmail@rx.${world.sender.domain}`), JSON.stringify(off));
    assert.equal((await api.del(`/api/v1/receive-here/${encodeURIComponent(`gmail@rx.${world.sender.domain}`)}`)).body.error.code, 'unknown_receive_address');
    // A domain that stops being verified stops receiving too, and starts again once verified.
    const db = world.mailroom.running.store.db;
    const domain = await db.selectFrom('domains').select(['id', 'verified_at']).where('name', '=', world.sender.domain).executeTakeFirstOrThrow();
    await db.updateTable('domains').set({ verified_at: null }).where('id', '=', domain.id).execute();
    const unverified = await fromGmail(alias);
    await db.updateTable('domains').set({ verified_at: domain.verified_at }).where('id', '=', domain.id).execute();
    assert.ok(!unverified.ok && unverified.response === refusedFor(alias), JSON.stringify(unverified));
    assert.equal((await api.get('/api/v1/caught-messages')).body.items.length, 1, 'nothing else was caught');
  });

  test('forwards a caught message through the queue to a loopback MX, the original attached', async () => {
    routeDomainToPeer(world.dns, 'inbox.example');
    assert.equal((await api.post(`/api/v1/caught-messages/${caughtId}/forward`, { to: 'not an address' })).body.error.field, 'to');
    const forwarded = await api.post(`/api/v1/caught-messages/${caughtId}/forward`, { to: 'me@inbox.example' });
    assert.equal(forwarded.status, 202, JSON.stringify(forwarded.body));
    const message = await waitForMessage(world.mailroom.running.store, forwarded.body.id, (m) => m.recipients[0].status === 'delivered');
    assert.equal(message.recipients[0].address, 'me@inbox.example');
    const received = await waitFor('the forward at the MX', () => world.mx.received.find((m) => m.rcptTo.includes('me@inbox.example')));
    // Forced: the composer marks the message/rfc822 part inline, which postal-mime would otherwise read into the text.
    const email = await PostalMime.parse(received.raw, { forceRfc822Attachments: true });
    assert.equal(email.from && 'address' in email.from ? email.from.address : '', alias, 'from the address it was caught for');
    assert.equal(email.subject, `Fwd: (#${GMAIL_CODE}) Gmail Confirmation - Send Mail as ${alias}`);
    assert.match(email.text ?? '', new RegExp(`Confirmation code: ${GMAIL_CODE}`));
    assert.ok((email.text ?? '').includes(`Confirmation link: ${GMAIL_LINK}`));
    assert.match(received.raw.toString(), /^DKIM-Signature: .*d=sender\d+\.example/m, 'signed for the account domain');
    const original = email.attachments.find((a) => a.mimeType === 'message/rfc822');
    assert.ok(original, 'the original is attached');
    assert.equal(original.filename, 'original.eml');
    const caught = (await api.get(`/api/v1/caught-messages/${caughtId}`)).body;
    assert.deepEqual([caught.forwarded.to, caught.forwarded.messageId], ['me@inbox.example', forwarded.body.id]);
  });

  test('retention deletes caught mail once its time is up, not before', async () => {
    const second = await fromGmail(alias);
    assert.ok(second.ok);
    const soon = await world.mailroom.running.retention.runPass(Date.now() + 6 * DAY);
    assert.equal(soon?.caughtDeleted, 0);
    assert.equal((await api.get('/api/v1/caught-messages')).body.items.length, 2);
    const later = await world.mailroom.running.retention.runPass(Date.now() + 7 * DAY + 60_000);
    assert.equal(later?.caughtDeleted, 2);
    const rows = await world.mailroom.running.store.db.selectFrom('caught_messages').select('id').execute();
    assert.deepEqual(rows, []);
    const events = await world.mailroom.running.store.db.selectFrom('message_events').select('id').where('type', '=', 'mail_caught').execute();
    assert.deepEqual(events, [], 'its event (which holds the code) goes with it');
    assert.equal((await api.get(`/api/v1/caught-messages/${caughtId}`)).status, 404);
  });
});
