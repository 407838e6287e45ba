/**
 * The MTA-STS policy cache (src/delivery/mta-sts.ts) against a real DNS server and HTTPS policy
 * host on loopback, with a clock the test moves: max_age, id changes, failed fetches, and trust.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.ts';
import { startPolicyServer, type PolicyServer } from '../support/mta-sts-server.ts';
import { createLeaf, createTestCa, type Pem } from '../support/test-certificates.ts';
import { createResolver } from '../../src/dns/resolver.ts';
import { MtaStsPolicies, policyNamesMx } from '../../src/delivery/mta-sts.ts';
import { trustedRoots } from '../../src/delivery/trust.ts';
import { storedPolicies } from '../../src/delivery/mta-sts-store.ts';
import { createTestStore, describeEachStore, type TestStore } from '../support/stores.ts';

let dns: TestDnsServer;
let server: PolicyServer;
let ca: Pem;
const names = ['a.example', 'b.example', 'c.example', 'd.example', 'sqlite.stored.example', 'postgres.stored.example'].map((d) => `mta-sts.${d}`);

before(async () => {
  dns = await startDnsServer();
  ca = await createTestCa();
  server = await startPolicyServer(await createLeaf({ names, ca }));
});
after(async () => {
  await server?.close();
  await dns?.close();
});

function policies(clock: { now: number }, trusted = true): MtaStsPolicies {
  return new MtaStsPolicies({
    resolver: createResolver([dns.address]), policyPort: server.port, now: () => clock.now,
    ca: trusted ? trustedRoots({ extraCaCerts: [ca.cert] }) : undefined, fetchTimeoutMs: 5000, answerCacheMs: 0,
  });
}

test('a policy is fetched once, kept for max_age, then fetched again; the policy host is resolved through our resolver', async () => {
  const clock = { now: Date.now() };
  const cache = policies(clock);
  server.publish(dns, 'a.example', 'one', { mode: 'enforce', mx: ['mx.a.example', '*.mail.a.example'], maxAge: 600 });
  const first = await cache.policyFor('a.example');
  assert.equal(first?.mode, 'enforce');
  assert.deepEqual(first?.mx, ['mx.a.example', '*.mail.a.example']);
  assert.ok(dns.queries.some((q) => q.name === 'mta-sts.a.example' && q.type === 'A'));
  await cache.policyFor('A.example.');
  assert.equal(server.fetches.get('mta-sts.a.example'), 1);

  clock.now += 601_000;
  assert.equal((await cache.policyFor('a.example'))?.id, 'one');
  assert.equal(server.fetches.get('mta-sts.a.example'), 2, 'expired after max_age: fetched again');
});

test('MX patterns: exact names and one left-most wildcard label', async () => {
  const policy = await policies({ now: Date.now() }).policyFor('a.example');
  assert.ok(policy);
  assert.equal(policyNamesMx(policy, 'mx.a.example'), true);
  assert.equal(policyNamesMx(policy, 'MX.A.EXAMPLE.'), true);
  assert.equal(policyNamesMx(policy, 'x.mail.a.example'), true);
  assert.equal(policyNamesMx(policy, 'y.x.mail.a.example'), false);
  assert.equal(policyNamesMx(policy, 'mx.b.example'), false);
});

test('a failed fetch keeps a cached policy in force; without one there is no policy, and the fetch waits before trying again', async () => {
  const clock = { now: Date.now() };
  const cache = policies(clock);
  server.publish(dns, 'b.example', 'v1', { mode: 'enforce', mx: ['mx.b.example'] });
  assert.equal((await cache.policyFor('b.example'))?.id, 'v1');
  dns.set('_mta-sts.b.example', 'TXT', 'v=STSv1; id=v2');
  dns.set('mta-sts.b.example', 'A', []); // the policy host vanished
  assert.equal((await cache.policyFor('b.example'))?.id, 'v1', 'the cached policy still applies');

  const fresh = policies(clock);
  assert.equal(await fresh.policyFor('b.example'), null);
  dns.set('mta-sts.b.example', 'A', '127.0.0.1');
  const fetchesBefore = server.fetches.get('mta-sts.b.example') ?? 0;
  assert.equal(await fresh.policyFor('b.example'), null, 'not fetched again at once');
  assert.equal(server.fetches.get('mta-sts.b.example') ?? 0, fetchesBefore);
  clock.now += 6 * 60_000;
  assert.equal((await fresh.policyFor('b.example'))?.mode, 'enforce');
});

test('a policy host whose certificate is not trusted gives no policy', async () => {
  server.publish(dns, 'c.example', 'x', { mode: 'enforce', mx: ['mx.c.example'] });
  assert.equal(await policies({ now: Date.now() }, false).policyFor('c.example'), null);
  assert.equal((await policies({ now: Date.now() }).policyFor('c.example'))?.id, 'x');
});

test('one answer serves the deliveries of the next moments without asking DNS again', async () => {
  const clock = { now: Date.now() };
  const cache = new MtaStsPolicies({
    resolver: createResolver([dns.address]), policyPort: server.port, now: () => clock.now,
    ca: trustedRoots({ extraCaCerts: [ca.cert] }), answerCacheMs: 30_000,
  });
  const asked = () => dns.queries.filter((q) => q.name === '_mta-sts.a.example').length;
  await cache.policyFor('a.example');
  const before = asked();
  await cache.policyFor('a.example');
  assert.equal(asked(), before, 'within 30 s: no new TXT query');
  clock.now += 31_000;
  await cache.policyFor('a.example');
  assert.equal(asked(), before + 1);
});

test('no TXT record, or DNS failing: no policy', async () => {
  const cache = policies({ now: Date.now() });
  assert.equal(await cache.policyFor('nothing.example'), null);
  server.publish(dns, 'd.example', 'd1', { mode: 'testing', mx: ['mx.d.example'] });
  dns.failWith('_mta-sts.d.example', 'SERVFAIL');
  assert.equal(await cache.policyFor('d.example'), null);
  dns.failWith('_mta-sts.d.example', null);
  assert.equal((await cache.policyFor('d.example'))?.mode, 'testing');
});

describeEachStore('MTA-STS policies kept in the store', (engine) => {
  let t: TestStore;
  before(async () => { t = await createTestStore(engine); });
  after(async () => t?.cleanup());
  const withStore = (clock: { now: number }) => new MtaStsPolicies({
    resolver: createResolver([dns.address]), policyPort: server.port, now: () => clock.now,
    ca: trustedRoots({ extraCaCerts: [ca.cert] }), fetchTimeoutMs: 5000, store: storedPolicies(t.store), answerCacheMs: 0,
  });

  test('a policy one node fetched applies on another node and after a restart, even with the TXT record gone', async () => {
    const clock = { now: Date.now() };
    const domain = `${engine}.stored.example`;
    server.publish(dns, domain, 's1', { mode: 'enforce', mx: [`mx.${domain}`], maxAge: 3600 });
    assert.equal((await withStore(clock).policyFor(domain))?.id, 's1');
    const fetched = server.fetches.get(`mta-sts.${domain}`);
    assert.equal(fetched, 1);

    const otherNode = withStore(clock);
    assert.equal((await otherNode.policyFor(domain))?.id, 's1');
    assert.equal(server.fetches.get(`mta-sts.${domain}`), 1, 'taken from the store, not fetched again');

    dns.set(`_mta-sts.${domain}`, 'TXT', []);
    const restarted = withStore(clock);
    const kept = await restarted.policyFor(domain);
    assert.deepEqual([kept?.id, kept?.mode, kept?.mx], ['s1', 'enforce', [`mx.${domain}`]]);

    clock.now += 3601_000;
    assert.equal(await withStore(clock).policyFor(domain), null, 'expired after max_age, and DNS no longer names one');
  });
});
