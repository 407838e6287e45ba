/**
 * MTA-STS (RFC 8461) on outbound mail, against real peers on loopback: a DNS server publishing
 * `_mta-sts` records, an HTTPS policy host and an MX peer whose certificates come from a test CA
 * that Mailroom is told to trust (as NODE_EXTRA_CA_CERTS would). `enforce` delivers only to
 * named MX hosts over verified TLS and otherwise defers, never in clear; `testing` delivers as
 * usual and says on the attempt what failed; the attempt names the policy that applied.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { routeDomainToPeer, startDeliveryWorld, type DeliveryWorld } from '../support/delivery-world.ts';
import { createLeaf, createTestCa } from '../support/test-certificates.ts';
import { startPolicyServer, type PolicyServer } from '../support/mta-sts-server.ts';
import { waitForMessage } from '../support/delivery.ts';

const DOMAINS = ['enforce-ok.example', 'enforce-stray.example', 'enforce-notls.example', 'enforce-badcert.example', 'testing.example', 'cached.example'];
// The MX certificate names only these; the others' MX names are not on it.
const CERTIFIED_MX = ['mx.enforce-ok.example', 'mx.enforce-notls.example', 'mx.cached.example'];

describeEachStore('MTA-STS on outbound delivery', (engine) => {
  let world: DeliveryWorld;
  let policies: PolicyServer;
  before(async () => {
    const ca = await createTestCa();
    policies = await startPolicyServer(await createLeaf({ names: DOMAINS.map((d) => `mta-sts.${d}`), ca }));
    world = await startDeliveryWorld(engine, {
      mxTls: await createLeaf({ names: CERTIFIED_MX, ca }),
      start: { outboundTls: { extraCaCerts: [ca.cert], mtaStsPort: policies.port } },
    }).catch(async (error) => {
      await policies.close();
      throw error;
    });
    routeDomainToPeer(world.dns, world.sender.domain);
    for (const domain of DOMAINS) routeDomainToPeer(world.dns, domain);
  });
  after(async () => {
    await world?.close();
    await policies?.close();
  });

  const store = () => world.mailroom.running.store;
  const receivedFor = (address: string) => world.mx.received.filter((m) => m.rcptTo.includes(address));

  test('enforce, MX named, certificate valid: delivered over TLS and the attempt names the policy', async () => {
    policies.publish(world.dns, 'enforce-ok.example', 'pol1', { mode: 'enforce', mx: ['mx.enforce-ok.example'] });
    const id = await world.send({ to: 'someone@enforce-ok.example' });
    const message = await waitForMessage(store(), id, (m) => m.recipients[0].status === 'delivered');
    const [attempt] = message.recipients[0].attempts;
    assert.equal(attempt.tls?.used, true);
    assert.equal(attempt.tls?.authorized, true);
    assert.deepEqual(attempt.mtaSts, { mode: 'enforce', policyId: 'pol1' });
    assert.equal(receivedFor('someone@enforce-ok.example')[0].tls, true);
  });

  test('enforce, a wildcard pattern names the MX: delivered', async () => {
    policies.publish(world.dns, 'enforce-ok.example', 'pol2', { mode: 'enforce', mx: ['*.enforce-ok.example'] });
    const id = await world.send({ to: 'wild@enforce-ok.example' });
    const message = await waitForMessage(store(), id, (m) => m.recipients[0].status === 'delivered');
    assert.deepEqual(message.recipients[0].attempts[0].mtaSts, { mode: 'enforce', policyId: 'pol2' });
  });

  test('enforce, MX not named by the policy: deferred, nothing sent', async () => {
    policies.publish(world.dns, 'enforce-stray.example', 'a1', { mode: 'enforce', mx: ['mx.elsewhere.example'] });
    const connectionsBefore = world.mx.connections;
    const id = await world.send({ to: 'someone@enforce-stray.example' });
    const message = await waitForMessage(store(), id, (m) => m.recipients[0].attempts.length > 0);
    const [attempt] = message.recipients[0].attempts;
    assert.equal(message.recipients[0].status, 'deferred');
    assert.equal(attempt.mtaSts?.mode, 'enforce');
    assert.equal(attempt.mtaSts?.policyId, 'a1');
    assert.match(attempt.mtaSts?.failure ?? '', /mx\.enforce-stray\.example.*not named|none of the MX hosts/);
    assert.match(attempt.reply, /MTA-STS/);
    assert.equal(receivedFor('someone@enforce-stray.example').length, 0);
    assert.equal(world.mx.transmitted.filter((m) => m.rcptTo.includes('someone@enforce-stray.example')).length, 0);
    assert.ok(world.mx.connections >= connectionsBefore);
  });

  test('enforce, MX without STARTTLS: deferred, never sent in clear', async () => {
    policies.publish(world.dns, 'enforce-notls.example', 'n1', { mode: 'enforce', mx: ['mx.enforce-notls.example'] });
    world.mx.script({ offerTls: false });
    try {
      const id = await world.send({ to: 'someone@enforce-notls.example' });
      const message = await waitForMessage(store(), id, (m) => m.recipients[0].attempts.length > 0);
      const [attempt] = message.recipients[0].attempts;
      assert.equal(message.recipients[0].status, 'deferred');
      assert.equal(attempt.mtaSts?.mode, 'enforce');
      assert.match(attempt.mtaSts?.failure ?? '', /STARTTLS/);
      assert.match(attempt.reply, /not sent in clear/);
      assert.equal(world.mx.transmitted.filter((m) => m.rcptTo.includes('someone@enforce-notls.example')).length, 0);
    } finally {
      world.mx.script('accept');
    }
  });

  test('enforce, certificate not valid for the MX name: deferred, never sent in clear', async () => {
    policies.publish(world.dns, 'enforce-badcert.example', 'b1', { mode: 'enforce', mx: ['mx.enforce-badcert.example'] });
    const id = await world.send({ to: 'someone@enforce-badcert.example' });
    const message = await waitForMessage(store(), id, (m) => m.recipients[0].attempts.length > 0);
    const [attempt] = message.recipients[0].attempts;
    assert.equal(message.recipients[0].status, 'deferred');
    assert.match(attempt.mtaSts?.failure ?? '', /TLS handshake/);
    assert.equal(world.mx.transmitted.filter((m) => m.rcptTo.includes('someone@enforce-badcert.example')).length, 0);
  });

  test('testing: delivered as usual, and the attempt records what failed', async () => {
    policies.publish(world.dns, 'testing.example', 't1', { mode: 'testing', mx: ['mx.testing.example'] });
    const id = await world.send({ to: 'someone@testing.example' });
    const message = await waitForMessage(store(), id, (m) => m.recipients[0].status === 'delivered');
    const [attempt] = message.recipients[0].attempts;
    assert.equal(attempt.mtaSts?.mode, 'testing');
    assert.equal(attempt.mtaSts?.policyId, 't1');
    assert.match(attempt.mtaSts?.failure ?? '', /certificate of mx\.testing\.example is not valid/);
    assert.equal(receivedFor('someone@testing.example').length, 1);
  });

  test('a cached policy is not fetched again until its id changes, and stays in force when the TXT record goes', async () => {
    policies.publish(world.dns, 'cached.example', 'c1', { mode: 'enforce', mx: ['mx.cached.example'] });
    for (const to of ['one@cached.example', 'two@cached.example']) {
      await waitForMessage(store(), await world.send({ to }), (m) => m.recipients[0].status === 'delivered');
    }
    assert.equal(policies.fetches.get('mta-sts.cached.example'), 1);

    // A new id: fetched again, and this policy no longer names the MX.
    policies.publish(world.dns, 'cached.example', 'c2', { mode: 'enforce', mx: ['mx.other.example'] });
    const changed = await waitForMessage(store(), await world.send({ to: 'three@cached.example' }), (m) => m.recipients[0].attempts.length > 0);
    assert.equal(changed.recipients[0].status, 'deferred');
    assert.equal(changed.recipients[0].attempts[0].mtaSts?.policyId, 'c2');
    assert.equal(policies.fetches.get('mta-sts.cached.example'), 2);

    // An attacker dropping the TXT record does not turn enforcement off while the policy is cached.
    world.dns.set('_mta-sts.cached.example', 'TXT', []);
    const stripped = await waitForMessage(store(), await world.send({ to: 'four@cached.example' }), (m) => m.recipients[0].attempts.length > 0);
    assert.equal(stripped.recipients[0].status, 'deferred');
    assert.equal(stripped.recipients[0].attempts[0].mtaSts?.policyId, 'c2');
  });

  test('no policy: opportunistic as always, and the attempt carries no MTA-STS facts', async () => {
    const id = await world.send({ to: 'plain@' + world.sender.domain });
    const message = await waitForMessage(store(), id, (m) => m.recipients[0].status === 'delivered');
    assert.equal(message.recipients[0].attempts[0].mtaSts, undefined);
    assert.equal(message.recipients[0].attempts[0].tls?.authorized, false, 'the peer certificate does not name the sender domain MX');
  });
});
