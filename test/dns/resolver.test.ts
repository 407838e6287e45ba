import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { DnsLookupError, createResolver } from '../../src/dns/resolver.ts';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.ts';

describe('createResolver against a loopback DNS server', () => {
  let dns: TestDnsServer;
  before(async () => {
    dns = await startDnsServer();
  });
  after(() => dns.close());

  const resolver = () => createResolver([dns.address], { timeoutMs: 150, tries: 1 });

  it('returns MX records as published, and [] when the domain exists without MX', async () => {
    dns.set('example.com', 'MX', [
      { exchange: 'mx2.example.com', priority: 20 },
      { exchange: 'mx1.example.com', priority: 10 },
    ]);
    dns.set('nomx.example', 'A', '192.0.2.1');
    const mx = await resolver().mx('example.com');
    assert.deepEqual(
      mx.sort((a, b) => a.priority - b.priority),
      [
        { exchange: 'mx1.example.com', priority: 10 },
        { exchange: 'mx2.example.com', priority: 20 },
      ],
    );
    assert.deepEqual(await resolver().mx('nomx.example'), []);
  });

  it('returns a null MX with exchange "" whether published as "." or ""', async () => {
    dns.set('null-dot.example', 'MX', { exchange: '.', priority: 0 });
    dns.set('null-empty.example', 'MX', { exchange: '', priority: 0 });
    assert.deepEqual(await resolver().mx('null-dot.example'), [{ exchange: '', priority: 0 }]);
    assert.deepEqual(await resolver().mx('null-empty.example'), [{ exchange: '', priority: 0 }]);
  });

  it('throws a permanent DnsLookupError for MX of a domain that does not exist', async () => {
    const err = await resolver().mx('nxdomain.example').then(
      () => assert.fail('expected a DnsLookupError'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof DnsLookupError);
    assert.equal(err.code, 'ENOTFOUND');
    assert.equal(err.temporary, false);
    assert.equal(err.hostname, 'nxdomain.example');
    assert.equal(err.rrtype, 'MX');
    assert.match(err.message, /does not exist/);
  });

  it('answers [] for A, AAAA, TXT and CNAME of a missing name or type', async () => {
    dns.set('only-a.example', 'A', '192.0.2.7');
    const r = resolver();
    assert.deepEqual(await r.a('missing.example'), []);
    assert.deepEqual(await r.aaaa('only-a.example'), []);
    assert.deepEqual(await r.txt('only-a.example'), []);
    assert.deepEqual(await r.cname('only-a.example'), []);
    assert.deepEqual(await r.a('only-a.example'), ['192.0.2.7']);
  });

  it('joins the chunks of each TXT record', async () => {
    dns.set('chunks.example', 'TXT', [['v=DKIM1; ', 'p=abc', 'def'], 'second']);
    assert.deepEqual((await resolver().txt('chunks.example')).sort(), ['second', 'v=DKIM1; p=abcdef']);
  });

  it('reports SERVFAIL and REFUSED as temporary errors', async () => {
    dns.failWith('servfail.example', 'SERVFAIL');
    dns.failWith('refused.example', 'REFUSED');
    await assert.rejects(resolver().mx('servfail.example'), { name: 'DnsLookupError', code: 'ESERVFAIL', temporary: true });
    await assert.rejects(resolver().txt('servfail.example'), { code: 'ESERVFAIL', temporary: true });
    await assert.rejects(resolver().a('refused.example'), { code: 'EREFUSED', temporary: true });
  });

  it('reports an unanswered query as a temporary timeout', async () => {
    dns.failWith('silent.example', 'TIMEOUT');
    const started = Date.now();
    await assert.rejects(resolver().mx('silent.example'), { code: 'ETIMEOUT', temporary: true });
    assert.ok(Date.now() - started < 3000, 'the configured short timeout applies');
  });

  it('reports a server nobody answers on as a temporary error', async (t) => {
    const hole = dgram.createSocket('udp4'); // receives and never answers
    await new Promise<void>((done) => hole.bind(0, '127.0.0.1', () => done()));
    t.after(() => new Promise<void>((done) => hole.close(() => done())));
    const r = createResolver([`127.0.0.1:${hole.address().port}`], { timeoutMs: 100, tries: 1 });
    await assert.rejects(r.a('example.com'), { name: 'DnsLookupError', temporary: true });
  });

  it('gives mailauth node-style answers and node-style error codes', async () => {
    dns.set('auth.example', 'TXT', [['v=spf1 ', 'a ~all']]);
    const resolve = resolver().forMailauth();
    assert.deepEqual(await resolve('auth.example', 'TXT'), [['v=spf1 ', 'a ~all']]);
    await assert.rejects(resolve('nxdomain.example', 'TXT'), { code: 'ENOTFOUND' });
    await assert.rejects(resolve('auth.example', 'MX'), { code: 'ENODATA' });
  });

  it('builds with system resolvers when no servers are configured', () => {
    for (const servers of [null, []]) {
      const r = createResolver(servers);
      assert.equal(typeof r.mx, 'function');
    }
  });
});
