import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { createResolver } from '../../src/dns/resolver.ts';
import { startDnsServer, type TestDnsServer } from './dns-server.ts';
import { closedPort, startMxPeer, type MxPeer } from './mx-peer.ts';

type Outcome = { info?: SMTPConnection.SentMessageInfo; err?: SMTPConnection.SMTPError; secure: boolean };

/** Sends one message the way delivery will: opportunistic STARTTLS, certificate not verified. */
function send(port: number, to: string[], timeouts: Partial<SMTPConnection.Options> = {}): Promise<Outcome> {
  const client = new SMTPConnection({ host: '127.0.0.1', port, tls: { rejectUnauthorized: false }, ...timeouts });
  return new Promise((resolve) => {
    const done = (outcome: Omit<Outcome, 'secure'>) => {
      client.close();
      resolve({ ...outcome, secure: client.secure });
    };
    client.once('error', (err) => done({ err }));
    client.connect((err) => {
      if (err) return done({ err });
      const message = `From: a@sender.test\r\nTo: ${to.join(', ')}\r\nSubject: hello\r\n\r\nbody\r\n`;
      client.send({ from: 'bounce@sender.test', to }, message, (sendErr, info) => done(sendErr ? { err: sendErr } : { info }));
    });
  });
}

describe('mx peer', () => {
  let mx: MxPeer;
  before(async () => {
    mx = await startMxPeer();
  });
  after(() => mx.close());

  it('accepts over STARTTLS and records the message', async () => {
    mx.script('accept');
    const before = mx.received.length;
    const { info, err, secure } = await send(mx.port, ['one@rcpt.test', 'two@rcpt.test']);
    assert.equal(err, undefined);
    assert.equal(info?.response, '250 OK: message queued');
    assert.equal(secure, true);
    const [message] = await mx.waitFor(before + 1, 2000).then((all) => all.slice(before));
    assert.equal(message.mailFrom, 'bounce@sender.test');
    assert.deepEqual(message.rcptTo, ['one@rcpt.test', 'two@rcpt.test']);
    assert.equal(message.tls, true);
    assert.match(message.raw.toString(), /Subject: hello\r\n\r\nbody\r\n/);
    assert.ok(message.at <= Date.now());
    assert.ok(mx.connections >= 1);
  });

  it('can stop offering STARTTLS', async () => {
    mx.script({ offerTls: false });
    const before = mx.received.length;
    const { err, secure } = await send(mx.port, ['plain@rcpt.test']);
    assert.equal(err, undefined);
    assert.equal(secure, false);
    assert.equal(mx.received[before].tls, false);
  });

  it('defers each recipient its first n attempts with the exact scripted reply', async () => {
    mx.script({ deferTimes: 2, reply: '452 4.2.2 Mailbox full' });
    for (let attempt = 1; attempt <= 2; attempt++) {
      const { err } = await send(mx.port, ['later@rcpt.test']);
      assert.equal(err?.code, 'EENVELOPE');
      assert.equal(err?.response, '452 4.2.2 Mailbox full');
      assert.equal(err?.responseCode, 452);
    }
    const before = mx.received.length;
    const { info } = await send(mx.port, ['later@rcpt.test', 'fresh@rcpt.test']);
    assert.deepEqual(info?.accepted, ['later@rcpt.test']);
    assert.deepEqual(info?.rejectedErrors?.map((e) => e.response), ['452 4.2.2 Mailbox full']);
    assert.deepEqual(mx.received[before].rcptTo, ['later@rcpt.test']);
  });

  it('uses 451 4.7.1 as the default deferral', async () => {
    mx.script({ deferTimes: 1 });
    const { err } = await send(mx.port, ['default@rcpt.test']);
    assert.equal(err?.response, '451 4.7.1 Try again later');
  });

  it('rejects chosen recipients and takes the rest', async () => {
    mx.script({ rejectRcpt: (address) => (address.startsWith('nobody@') ? '550 5.1.1 User unknown' : null) });
    const { info } = await send(mx.port, ['nobody@rcpt.test', 'somebody@rcpt.test']);
    assert.deepEqual(info?.accepted, ['somebody@rcpt.test']);
    assert.deepEqual(info?.rejected, ['nobody@rcpt.test']);
    assert.equal(info?.rejectedErrors?.[0].response, '550 5.1.1 User unknown');
  });

  it('rejects the message after DATA, then accepts once re-scripted', async () => {
    mx.script({ rejectData: '554 5.7.1 Message rejected' });
    const before = mx.received.length;
    const { err } = await send(mx.port, ['data@rcpt.test']);
    assert.equal(err?.response, '554 5.7.1 Message rejected');
    assert.equal(err?.responseCode, 554);
    assert.equal(mx.received.length, before);
    mx.script('accept');
    const waiting = mx.waitFor(before + 1, 2000);
    await send(mx.port, ['data@rcpt.test']);
    assert.equal((await waiting).length, before + 1);
  });

  it('stalls before the greeting, counting the connection', async () => {
    mx.script({ stall: true });
    const connections = mx.connections;
    const { err } = await send(mx.port, ['stall@rcpt.test'], { greetingTimeout: 300 });
    assert.equal(err?.code, 'ETIMEDOUT');
    assert.match(err?.message ?? '', /Greeting never received/);
    assert.equal(mx.connections, connections + 1);
  });

  it('stalls after the message body when scripted to', async () => {
    mx.script({ stall: 'data' });
    const before = mx.received.length;
    const { err } = await send(mx.port, ['slow@rcpt.test'], { socketTimeout: 400 });
    assert.equal(err?.code, 'ETIMEDOUT');
    assert.equal(mx.received.length, before);
  });

  it('waitFor rejects with a count when too few messages arrive', async () => {
    await assert.rejects(mx.waitFor(mx.received.length + 1, 50), /expected \d+ message\(s\) within 50ms/);
  });

  it('close() ends connections that are still open', async () => {
    const peer = await startMxPeer({ behaviour: { stall: true } });
    const pending = send(peer.port, ['x@rcpt.test'], { greetingTimeout: 10_000 });
    while (peer.connections === 0) await new Promise((r) => setTimeout(r, 10));
    const started = Date.now();
    await peer.close();
    const { err } = await pending;
    assert.ok(err, 'the client sees the connection drop');
    assert.ok(Date.now() - started < 2000);
  });

  it('closedPort() gives a port that refuses connections', async () => {
    const { err } = await send(await closedPort(), ['x@rcpt.test']);
    assert.equal(err?.code, 'ESOCKET');
    assert.match(err?.message ?? '', /ECONNREFUSED/);
  });
});

describe('dns server', () => {
  let dns: TestDnsServer;
  before(async () => {
    dns = await startDnsServer();
  });
  after(() => dns.close());
  const resolver = () => createResolver([dns.address], { timeoutMs: 200, tries: 1 });

  it('answers MX, A, AAAA, TXT and CNAME, case-insensitively', async () => {
    dns.set('Example.COM.', 'MX', [{ exchange: 'mx.example.com', priority: 10 }]);
    dns.set('mx.example.com', 'A', ['127.0.0.1', '127.0.0.2']);
    dns.set('mx.example.com', 'AAAA', '::1');
    dns.set('example.com', 'TXT', 'v=spf1 -all');
    dns.set('www.example.com', 'CNAME', 'example.com');
    const r = resolver();
    assert.deepEqual(await r.mx('EXAMPLE.com'), [{ exchange: 'mx.example.com', priority: 10 }]);
    assert.deepEqual((await r.a('mx.example.com.')).sort(), ['127.0.0.1', '127.0.0.2']);
    assert.deepEqual(await r.aaaa('mx.example.com'), ['::1']);
    assert.deepEqual(await r.txt('example.com'), ['v=spf1 -all']);
    assert.deepEqual(await r.cname('www.example.com'), ['example.com']);
  });

  it('serves a null MX', async () => {
    dns.set('nomail.example', 'MX', { exchange: '.', priority: 0 });
    assert.deepEqual(await resolver().mx('nomail.example'), [{ exchange: '', priority: 0 }]);
  });

  it('follows CNAMEs for other types and serves NODATA for names that only have children', async () => {
    dns.set('bounces.sender.test', 'CNAME', 'mx.example.com');
    dns.set('_dmarc.parent.test', 'TXT', 'v=DMARC1; p=none');
    const r = resolver();
    assert.deepEqual((await r.a('bounces.sender.test')).sort(), ['127.0.0.1', '127.0.0.2']);
    assert.deepEqual(await r.txt('bounces.sender.test'), []);
    assert.deepEqual(await r.mx('parent.test'), []);
    await assert.rejects(r.mx('unknown.test'), { code: 'ENOTFOUND', temporary: false });
  });

  it('truncates large answers over UDP and serves them over TCP on the same port', async () => {
    const records = Array.from({ length: 8 }, (_, i) => `${i}`.repeat(250));
    dns.set('big.test', 'TXT', records);
    const before = dns.queries.length;
    assert.deepEqual((await resolver().txt('big.test')).sort(), records);
    assert.equal(dns.queries.slice(before).length, 2, 'asked over UDP, then again over TCP');
  });

  it('fails on demand, and clear() forgets names and failures', async () => {
    dns.set('flaky.test', 'A', '192.0.2.1');
    dns.failWith('flaky.test', 'SERVFAIL');
    await assert.rejects(resolver().a('flaky.test'), { code: 'ESERVFAIL', temporary: true });
    dns.failWith('flaky.test', null);
    assert.deepEqual(await resolver().a('flaky.test'), ['192.0.2.1']);
    dns.clear('flaky.test');
    assert.deepEqual(await resolver().a('flaky.test'), []);
    dns.clear();
    await assert.rejects(resolver().mx('example.com'), { code: 'ENOTFOUND' });
  });

  it('answers a child process pointed at it', async () => {
    dns.set('child.test', 'MX', [{ exchange: 'mx.child.test', priority: 5 }]);
    const script = `
      import { Resolver } from 'node:dns/promises';
      const r = new Resolver({ timeout: 500, tries: 1 });
      r.setServers([process.env.MAILROOM_DNS_SERVERS]);
      const mx = await r.resolveMx('child.test');
      console.log(JSON.stringify(mx.map(({ exchange, priority }) => ({ exchange, priority }))));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, MAILROOM_DNS_SERVERS: dns.address },
    });
    assert.deepEqual(JSON.parse(stdout), [{ exchange: 'mx.child.test', priority: 5 }]);
  });
});
