/**
 * DKIM key rotation without a gap, end to end on both stores: the API starts a rotation and shows
 * the new record beside the current one; mail keeps being signed (and verifying) with the current
 * key until DNS has the new record; then the re-check switches signing, and the old key is kept as
 * retired with the date its record may be removed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dkimVerify } from 'mailauth';
import { describeEachStore } from '../support/stores.ts';
import { routeDomainToPeer, startDeliveryWorld, type DeliveryWorld } from '../support/delivery-world.ts';
import { apiClient } from '../api/client.ts';
import { recheckDueDomains } from '../../src/domains/recheck.ts';
import { completeDkimRotation, RETIRED_KEY_GRACE_MS } from '../../src/domains/dkim-rotation.ts';
import { getDomainRow } from '../../src/domains/domains.ts';
import { createResolver } from '../../src/dns/resolver.ts';
import { headerOf } from '../support/delivery.ts';
import { waitFor } from '../support/wait.ts';
import { createWebhook } from '../../src/events/webhooks.ts';
import { startWebhookSink, type WebhookSink } from '../support/webhook-sink.ts';

describeEachStore('DKIM key rotation', (engine) => {
  let world: DeliveryWorld;
  let hooks: WebhookSink;
  before(async () => {
    world = await startDeliveryWorld(engine, { start: { webhooks: { pollIntervalMs: 50, requestTimeoutMs: 2000, retry: { firstDelayMs: 100, maxDelayMs: 400 } } } });
    routeDomainToPeer(world.dns, 'inbox.example');
    hooks = await startWebhookSink();
    await createWebhook(world.mailroom.running.store, world.sender.accountId, {
      url: hooks.url, events: ['dkim_key_rotated'],
    });
  });
  after(async () => {
    await hooks?.close();
    await world?.close();
  });

  const api = () => apiClient(world.mailroom.port('http'), world.sender.secret);
  const resolver = () => createResolver([world.dns.address]);
  const txtLookup = (name: string) => resolver().forMailauth()(name, 'TXT') as Promise<string[][]>;
  /** Sends one message and returns its DKIM selector and whether the signature verifies against DNS. */
  async function sendAndCheck(to: string): Promise<{ selector: string; pass: boolean }> {
    await world.send({ to });
    const received = await waitFor(`mail to ${to}`, () => world.mx.received.find((m) => m.rcptTo.includes(to)));
    const selector = /\bs=([^;\s]+)/.exec(headerOf(received.raw, 'DKIM-Signature') ?? '')?.[1] ?? '';
    const verified = await dkimVerify(received.raw, { resolver: txtLookup });
    return { selector, pass: verified.results[0]?.status.result === 'pass' };
  }

  test('the new key signs only once its record is published; the old one is kept for the grace period', async () => {
    const domain = world.sender.domain;
    const oldSelector = (await getDomainRow(world.mailroom.running.store, domain, null)).dkim_selector;

    const started = await api().post(`/api/v1/domains/${domain}/dkim-rotation`);
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const pending = started.body.pending;
    assert.notEqual(pending.selector, oldSelector);
    assert.equal(pending.record.name, `${pending.selector}._domainkey.${domain}`);
    assert.match(pending.record.value, /^v=DKIM1; k=rsa; p=/);
    const again = await api().post(`/api/v1/domains/${domain}/dkim-rotation`);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'rotation_in_progress');

    // Not published yet: a verify and a re-check leave signing on the old key, which verifies.
    const detail = await api().get(`/api/v1/domains/${domain}`);
    assert.equal(detail.body.dkimRotation.pending.selector, pending.selector);
    assert.equal(detail.body.domain.dkimSelector, oldSelector, 'the current key is shown beside the new one');
    await api().post(`/api/v1/domains/${domain}/verify`);
    await recheckDueDomains({ store: world.mailroom.running.store, resolver: resolver(), serverHostname: world.mailroom.config.hostname });
    assert.deepEqual(await sendAndCheck('before@inbox.example'), { selector: oldSelector, pass: true });

    // Published: the next pass switches signing, and the old key is retired with its grace period.
    world.dns.set(pending.record.name, 'TXT', pending.record.value);
    const switchedAt = Date.now();
    await recheckDueDomains({ store: world.mailroom.running.store, resolver: resolver(), serverHostname: world.mailroom.config.hostname });
    const after = (await api().get(`/api/v1/domains/${domain}`)).body;
    assert.equal(after.domain.dkimSelector, pending.selector);
    assert.equal(after.dkimRotation.pending, null);
    assert.equal(after.dkimRotation.retired.length, 1);
    const [retired] = after.dkimRotation.retired;
    assert.equal(retired.selector, oldSelector);
    assert.equal(retired.name, `${oldSelector}._domainkey.${domain}`);
    const grace = Date.parse(retired.removableAfter) - Date.parse(retired.retiredAt);
    assert.equal(grace, RETIRED_KEY_GRACE_MS);
    assert.ok(Date.parse(retired.retiredAt) >= switchedAt - 1000);

    // The owner is told by webhook, with the date the old record may go.
    const hook = await waitFor('the dkim_key_rotated webhook', () => hooks.received.find((r) => r.type === 'dkim_key_rotated'));
    assert.deepEqual(hook.domain, { name: domain, selector: pending.selector, removableAfter: retired.removableAfter });
    assert.equal(hook.messageId, null);
    assert.match(hook.reply, new RegExp(`keep the record of ${oldSelector} published until`));

    // Delivery reads domain rows through a 5-second cache: wait it out, then mail signs with the new key.
    await new Promise((resolve) => setTimeout(resolve, 5200));
    assert.deepEqual(await sendAndCheck('after@inbox.example'), { selector: pending.selector, pass: true });
    // The mail signed before still verifies: the old record stays published through the grace period.
    const before = world.mx.received.find((m) => m.rcptTo.includes('before@inbox.example'))!;
    assert.equal((await dkimVerify(before.raw, { resolver: txtLookup })).results[0].status.result, 'pass');
  });

  test('two nodes completing the same rotation at once switch it once', async () => {
    const domain = world.sender.domain;
    const started = await api().post(`/api/v1/domains/${domain}/dkim-rotation`);
    assert.equal(started.status, 201);
    world.dns.set(started.body.pending.record.name, 'TXT', started.body.pending.record.value);
    const row = await getDomainRow(world.mailroom.running.store, domain, null);
    const switched = await Promise.all([1, 2, 3].map(() => completeDkimRotation(world.mailroom.running.store, row, resolver())));
    assert.equal(switched.filter(Boolean).length, 1);
    const detail = (await api().get(`/api/v1/domains/${domain}`)).body;
    assert.equal(detail.domain.dkimSelector, started.body.pending.selector);
    assert.equal(detail.dkimRotation.retired.length, 2);
    assert.notEqual(detail.dkimRotation.retired[0].selector, detail.dkimRotation.retired[1].selector);
  });
});
