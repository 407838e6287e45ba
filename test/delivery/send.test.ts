import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ConnectionPool } from '../../src/delivery/connection-pool.ts';
import type { Route } from '../../src/delivery/route.ts';
import { sendEnvelope } from '../../src/delivery/send.ts';
import type { SendOptions } from '../../src/delivery/send.ts';
import type { SmtpSession } from '../../src/delivery/smtp-client.ts';
import type { Outcome } from '../../src/queue/outcome.ts';
import { closedPort, startMxPeer } from '../support/mx-peer.ts';
import type { MxPeer } from '../support/mx-peer.ts';

const RAW = Buffer.from('From: alice@sender.test\r\nTo: bob@rcpt.test\r\nSubject: hello\r\nMessage-ID: <1@sender.test>\r\n\r\nHi Bob.\r\n');
const TIMEOUTS = { connectMs: 2000, greetingMs: 400, dataMs: 400 };

function routeTo(...hosts: Array<{ name: string; port: number }>): Route {
  return { kind: 'hosts', hosts: hosts.map((h) => ({ name: h.name, ips: ['127.0.0.1'], port: h.port })) };
}

function expectKind(outcome: Outcome | undefined, kind: Outcome['kind']): Outcome {
  assert.ok(outcome, 'an outcome for the recipient');
  assert.equal(outcome.kind, kind, `${outcome.kind}: ${outcome.reply}`);
  return outcome;
}

describe('sendEnvelope against a loopback MX', () => {
  let mx: MxPeer;
  let spare: MxPeer;
  let pool: ConnectionPool<SmtpSession>;
  let opts: SendOptions;

  before(async () => {
    mx = await startMxPeer({ hostname: 'mx1.rcpt.test' });
    spare = await startMxPeer({ hostname: 'mx2.rcpt.test' });
  });
  after(async () => {
    await mx.close();
    await spare.close();
  });
  // A fresh pool per test, so connection counts and reuse are each test's own.
  const fresh = () => {
    pool = new ConnectionPool<SmtpSession>({ idleMs: 2000 });
    opts = { heloName: 'mailroom.test', pool, timeouts: TIMEOUTS };
    mx.script('accept');
    spare.script('accept');
  };
  afterEach(() => pool.close());

  it('delivers, over STARTTLS, recording the TLS version and that the certificate did not verify', async () => {
    fresh();
    const before = mx.received.length;
    const outcomes = await sendEnvelope({ from: 'b+1.abc@bounce.test', recipients: ['bob@rcpt.test'], raw: RAW }, routeTo({ name: 'mx1.rcpt.test', port: mx.port }), opts);
    const outcome = expectKind(outcomes.get('bob@rcpt.test'), 'delivered');
    assert.match(outcome.reply, /^250 /);
    assert.equal(outcome.mx, 'mx1.rcpt.test');
    assert.equal(outcome.ip, '127.0.0.1');
    assert.equal(outcome.tls.used, true);
    assert.match(outcome.tls.version ?? '', /^TLSv1\.[23]$/);
    assert.equal(outcome.tls.authorized, false, 'self-signed for localhost, not mx1.rcpt.test');
    assert.ok(outcome.durationMs >= 0);
    const [message] = (await mx.waitFor(before + 1)).slice(before);
    assert.equal(message.mailFrom, 'b+1.abc@bounce.test');
    assert.deepEqual(message.rcptTo, ['bob@rcpt.test']);
    assert.equal(message.tls, true);
    assert.ok(message.raw.equals(RAW));
  });

  it('delivers in plaintext when the MX offers no STARTTLS', async () => {
    fresh();
    mx.script({ offerTls: false });
    const outcomes = await sendEnvelope({ from: 'a@sender.test', recipients: ['bob@rcpt.test'], raw: RAW }, routeTo({ name: 'mx1.rcpt.test', port: mx.port }), opts);
    assert.deepEqual(expectKind(outcomes.get('bob@rcpt.test'), 'delivered').tls, { used: false });
  });

  it('moves on to the second MX when the first refuses the connection', async () => {
    fresh();
    const before = spare.received.length;
    const route = routeTo({ name: 'mx1.rcpt.test', port: await closedPort() }, { name: 'mx2.rcpt.test', port: spare.port });
    const outcome = expectKind((await sendEnvelope({ from: 'a@sender.test', recipients: ['bob@rcpt.test'], raw: RAW }, route, opts)).get('bob@rcpt.test'), 'delivered');
    assert.equal(outcome.mx, 'mx2.rcpt.test');
    assert.equal(spare.received.length, before + 1);
  });

  it('defers on a 4xx to RCPT, with the remote reply, and tries no other MX', async () => {
    fresh();
    mx.script({ deferTimes: 1, reply: '451 4.7.1 Greylisted, come back in 5 minutes' });
    const before = spare.received.length;
    const route = routeTo({ name: 'mx1.rcpt.test', port: mx.port }, { name: 'mx2.rcpt.test', port: spare.port });
    const outcome = expectKind((await sendEnvelope({ from: 'a@sender.test', recipients: ['bob@rcpt.test'], raw: RAW }, route, opts)).get('bob@rcpt.test'), 'deferred');
    assert.equal(outcome.reply, '451 4.7.1 Greylisted, come back in 5 minutes');
    assert.equal(outcome.kind === 'deferred' && outcome.rule, 'greylisting');
    assert.equal(spare.received.length, before);
  });

  it('bounces on a 5xx to RCPT with the remote reply text and its class', async () => {
    fresh();
    mx.script({ rejectRcpt: () => '550 5.1.1 <nobody@rcpt.test>: Recipient address rejected: User unknown' });
    const outcome = expectKind((await sendEnvelope({ from: 'a@sender.test', recipients: ['nobody@rcpt.test'], raw: RAW }, routeTo({ name: 'mx1.rcpt.test', port: mx.port }), opts)).get('nobody@rcpt.test'), 'bounced');
    assert.equal(outcome.reply, '550 5.1.1 <nobody@rcpt.test>: Recipient address rejected: User unknown');
    assert.equal(outcome.kind === 'bounced' && outcome.bounceClass, 'unknown-user');
  });

  it('gives each recipient its own outcome when some are refused and others taken', async () => {
    fresh();
    mx.script({
      rejectRcpt: (address) => {
        if (address.startsWith('gone')) return '550 5.1.1 No such user';
        if (address.startsWith('full')) return '452 4.2.2 Mailbox full, try later';
        return null;
      },
    });
    const before = mx.received.length;
    const recipients = ['ok1@rcpt.test', 'gone@rcpt.test', 'full@rcpt.test', 'ok2@rcpt.test'];
    const outcomes = await sendEnvelope({ from: 'a@sender.test', recipients, raw: RAW }, routeTo({ name: 'mx1.rcpt.test', port: mx.port }), opts);
    assert.deepEqual([...outcomes.keys()], recipients);
    expectKind(outcomes.get('ok1@rcpt.test'), 'delivered');
    expectKind(outcomes.get('ok2@rcpt.test'), 'delivered');
    assert.equal(expectKind(outcomes.get('gone@rcpt.test'), 'bounced').reply, '550 5.1.1 No such user');
    assert.equal(expectKind(outcomes.get('full@rcpt.test'), 'deferred').reply, '452 4.2.2 Mailbox full, try later');
    const [message] = (await mx.waitFor(before + 1)).slice(before);
    assert.deepEqual(message.rcptTo, ['ok1@rcpt.test', 'ok2@rcpt.test']);
  });

  it('bounces every accepted recipient with the reply to the final dot when DATA is refused', async () => {
    fresh();
    mx.script({ rejectData: '554 5.7.1 Message rejected as spam' });
    const outcomes = await sendEnvelope({ from: 'a@sender.test', recipients: ['x@rcpt.test', 'y@rcpt.test'], raw: RAW }, routeTo({ name: 'mx1.rcpt.test', port: mx.port }), opts);
    for (const r of ['x@rcpt.test', 'y@rcpt.test']) {
      const outcome = expectKind(outcomes.get(r), 'bounced');
      assert.equal(outcome.reply, '554 5.7.1 Message rejected as spam');
      assert.equal(outcome.kind === 'bounced' && outcome.bounceClass, 'spam');
    }
  });

  it('defers after the (short) greeting timeout when the server never greets', async () => {
    fresh();
    mx.script({ stall: true });
    const t0 = Date.now();
    const outcome = expectKind((await sendEnvelope({ from: 'a@sender.test', recipients: ['bob@rcpt.test'], raw: RAW }, routeTo({ name: 'mx1.rcpt.test', port: mx.port }), opts)).get('bob@rcpt.test'), 'deferred');
    assert.ok(Date.now() - t0 < 3000, 'gave up within the timeout');
    assert.match(outcome.reply, /timed out|timeout/i);
  });

  it('defers after the (short) data timeout when the server never answers the final dot', async () => {
    fresh();
    mx.script({ stall: 'data' });
    const t0 = Date.now();
    const outcome = expectKind((await sendEnvelope({ from: 'a@sender.test', recipients: ['bob@rcpt.test'], raw: RAW }, routeTo({ name: 'mx1.rcpt.test', port: mx.port }), opts)).get('bob@rcpt.test'), 'deferred');
    assert.ok(Date.now() - t0 < 3000, 'gave up within the timeout');
    assert.match(outcome.reply, /timed out/i);
    assert.equal(outcome.tls.used, true);
  });

  it('reuses one connection for two envelopes to the same MX', async () => {
    fresh();
    const peer = await startMxPeer();
    try {
      const route = routeTo({ name: 'mx.rcpt.test', port: peer.port });
      for (const r of ['first@rcpt.test', 'second@rcpt.test']) {
        expectKind((await sendEnvelope({ from: 'a@sender.test', recipients: [r], raw: RAW }, route, opts)).get(r), 'delivered');
      }
      const messages = await peer.waitFor(2);
      assert.deepEqual(messages.map((m) => m.rcptTo), [['first@rcpt.test'], ['second@rcpt.test']]);
      assert.equal(peer.connections, 1);
    } finally {
      pool.close();
      await peer.close();
    }
  });

  it('turns an undeliverable route into outcomes without connecting', async () => {
    fresh();
    const nullMx = await sendEnvelope({ from: 'a@sender.test', recipients: ['a@nomail.test', 'b@nomail.test'], raw: RAW },
      { kind: 'undeliverable', reply: 'nomail.test does not accept mail (null MX, RFC 7505)', temporary: false }, opts);
    for (const outcome of nullMx.values()) {
      assert.equal(outcome.kind === 'bounced' && outcome.bounceClass, 'no-mx');
      assert.equal(outcome.reply, 'nomail.test does not accept mail (null MX, RFC 7505)');
      assert.equal(outcome.mx, null);
    }
    const flaky = await sendEnvelope({ from: 'a@sender.test', recipients: ['a@flaky.test'], raw: RAW },
      { kind: 'undeliverable', reply: 'DNS MX lookup for flaky.test: timed out', temporary: true }, opts);
    expectKind(flaky.get('a@flaky.test'), 'deferred');
  });

  it('retries in plaintext on the same MX when the STARTTLS handshake fails', async () => {
    fresh();
    const broken = await startBrokenTlsServer();
    try {
      const outcome = expectKind((await sendEnvelope({ from: 'a@sender.test', recipients: ['bob@rcpt.test'], raw: RAW }, routeTo({ name: 'mx.rcpt.test', port: broken.port }), opts)).get('bob@rcpt.test'), 'delivered');
      assert.deepEqual(outcome.tls, { used: false });
      assert.equal(broken.sessions(), 2, 'one failed TLS session, one plaintext session');
      assert.equal(broken.messages(), 1);
    } finally {
      pool.close();
      await broken.close();
    }
  });
});

/**
 * A hand-written SMTP server whose STARTTLS always fails mid-handshake (answers 220, then sends
 * garbage instead of a ServerHello) — smtp-server cannot be made to do that, a broken TLS
 * stack on a real MX does.
 */
async function startBrokenTlsServer() {
  let sessions = 0;
  let messages = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sessions++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffer = '';
    let inData = false;
    socket.write('220 broken-tls.test ESMTP\r\n');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      for (;;) {
        if (inData) {
          const end = buffer.indexOf('\r\n.\r\n');
          if (end < 0) return;
          buffer = buffer.slice(end + 5);
          inData = false;
          messages++;
          socket.write('250 2.0.0 queued\r\n');
          continue;
        }
        const eol = buffer.indexOf('\r\n');
        if (eol < 0) return;
        const line = buffer.slice(0, eol).toUpperCase();
        buffer = buffer.slice(eol + 2);
        if (line.startsWith('EHLO')) socket.write('250-broken-tls.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n');
        else if (line.startsWith('STARTTLS')) {
          socket.write('220 2.0.0 go ahead\r\n');
          socket.end('this is not a TLS ServerHello\r\n');
          return;
        } else if (line.startsWith('DATA')) {
          inData = true;
          socket.write('354 go on\r\n');
        } else if (line.startsWith('QUIT')) socket.end('221 bye\r\n');
        else socket.write('250 2.1.0 ok\r\n');
      }
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  return {
    port: (server.address() as net.AddressInfo).port,
    sessions: () => sessions,
    messages: () => messages,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((done) => server.close(() => done()));
    },
  };
}
