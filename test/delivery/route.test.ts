import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createResolver } from '../../src/dns/resolver.ts';
import type { DnsResolver } from '../../src/dns/resolver.ts';
import { resolveRoute } from '../../src/delivery/route.ts';
import { startDnsServer } from '../support/dns-server.ts';
import type { TestDnsServer } from '../support/dns-server.ts';

let dns: TestDnsServer;
let resolver: DnsResolver;
const opts = { port: 2525 };

before(async () => {
  dns = await startDnsServer();
  resolver = createResolver([dns.address], { timeoutMs: 200, tries: 1, maxTimeoutMs: 200 });
});
after(() => dns.close());
beforeEach(() => dns.clear());

test('MX hosts by preference, each with its A then AAAA addresses', async () => {
  dns.set('example.org', 'MX', [{ exchange: 'backup.example.org', priority: 20 }, { exchange: 'mx1.example.org', priority: 10 }]);
  dns.set('mx1.example.org', 'A', ['192.0.2.1', '192.0.2.2']);
  dns.set('mx1.example.org', 'AAAA', '2001:db8::1');
  dns.set('backup.example.org', 'A', '192.0.2.9');
  const route = await resolveRoute('example.org', resolver, opts);
  assert.deepEqual(route, {
    kind: 'hosts',
    hosts: [
      { name: 'mx1.example.org', ips: ['192.0.2.1', '192.0.2.2', '2001:db8::1'], port: 2525 },
      { name: 'backup.example.org', ips: ['192.0.2.9'], port: 2525 },
    ],
  });
});

test('equal preferences come in random order, so load spreads', async () => {
  dns.set('spread.example', 'MX', [
    { exchange: 'a.spread.example', priority: 10 },
    { exchange: 'b.spread.example', priority: 10 },
    { exchange: 'c.spread.example', priority: 10 },
    { exchange: 'last.spread.example', priority: 50 },
  ]);
  for (const host of ['a', 'b', 'c', 'last']) dns.set(`${host}.spread.example`, 'A', '192.0.2.1');
  const firsts = new Set<string>();
  for (let i = 0; i < 40; i++) {
    const route = await resolveRoute('spread.example', resolver, opts);
    assert.equal(route.kind, 'hosts');
    if (route.kind !== 'hosts') return;
    firsts.add(route.hosts[0].name);
    assert.equal(route.hosts[3].name, 'last.spread.example');
  }
  assert.ok(firsts.size >= 2, `first host varied: ${[...firsts].join(', ')}`);
});

test('no MX: the domain itself is the implicit MX', async () => {
  dns.set('implicit.example', 'A', '192.0.2.7');
  const route = await resolveRoute('implicit.example', resolver, opts);
  assert.deepEqual(route, { kind: 'hosts', hosts: [{ name: 'implicit.example', ips: ['192.0.2.7'], port: 2525 }] });
});

test('null MX: permanently undeliverable', async () => {
  dns.set('nomail.example', 'MX', { exchange: '.', priority: 0 });
  dns.set('nomail.example', 'A', '192.0.2.7');
  const route = await resolveRoute('nomail.example', resolver, opts);
  assert.deepEqual(route, { kind: 'undeliverable', reply: 'nomail.example does not accept mail (null MX, RFC 7505)', temporary: false });
});

test('a domain that does not exist is permanently undeliverable', async () => {
  const route = await resolveRoute('nowhere.example', resolver, opts);
  assert.equal(route.kind, 'undeliverable');
  if (route.kind === 'undeliverable') {
    assert.equal(route.temporary, false);
    assert.match(route.reply, /nowhere\.example/);
  }
});

test('no MX and no address: permanently undeliverable', async () => {
  dns.set('bare.example', 'TXT', 'v=spf1 -all');
  const route = await resolveRoute('bare.example', resolver, opts);
  assert.deepEqual(route, { kind: 'undeliverable', reply: 'bare.example has no MX record and no A/AAAA address to use as implicit MX', temporary: false });
});

test('a DNS server failure is temporary', async () => {
  dns.failWith('flaky.example', 'SERVFAIL');
  const route = await resolveRoute('flaky.example', resolver, opts);
  assert.equal(route.kind, 'undeliverable');
  if (route.kind === 'undeliverable') assert.equal(route.temporary, true);
});

test('an MX host that does not resolve is skipped; when none resolves, why decides', async () => {
  dns.set('partial.example', 'MX', [{ exchange: 'gone.partial.example', priority: 5 }, { exchange: 'ok.partial.example', priority: 10 }]);
  dns.set('ok.partial.example', 'A', '192.0.2.3');
  const route = await resolveRoute('partial.example', resolver, opts);
  assert.deepEqual(route, { kind: 'hosts', hosts: [{ name: 'ok.partial.example', ips: ['192.0.2.3'], port: 2525 }] });

  dns.set('dangling.example', 'MX', { exchange: 'gone.dangling.example', priority: 5 });
  assert.deepEqual(await resolveRoute('dangling.example', resolver, opts), {
    kind: 'undeliverable', reply: 'no MX host of dangling.example has an address (gone.dangling.example)', temporary: false,
  });

  dns.set('slowmx.example', 'MX', { exchange: 'mx.slowmx.example', priority: 5 });
  dns.failWith('mx.slowmx.example', 'SERVFAIL');
  const slow = await resolveRoute('slowmx.example', resolver, opts);
  assert.equal(slow.kind, 'undeliverable');
  if (slow.kind === 'undeliverable') assert.equal(slow.temporary, true);
});

test('a relay host takes all mail, whatever the domain', async () => {
  dns.set('example.org', 'MX', { exchange: 'mx1.example.org', priority: 10 });
  dns.set('smarthost.example', 'A', '192.0.2.50');
  const relayHost = { host: 'smarthost.example', port: 587 };
  assert.deepEqual(await resolveRoute('example.org', resolver, { port: 25, relayHost }), {
    kind: 'hosts', hosts: [{ name: 'smarthost.example', ips: ['192.0.2.50'], port: 587 }],
  });
  assert.deepEqual(await resolveRoute('anything.example', resolver, { port: 25, relayHost: { host: '127.0.0.1', port: 2526 } }), {
    kind: 'hosts', hosts: [{ name: '127.0.0.1', ips: ['127.0.0.1'], port: 2526 }],
  });
});
