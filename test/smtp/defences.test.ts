/**
 * What hostile or broken clients run into: password guessing throttled per IP
 * (never a lock on an account: see login-throttle.test.ts), SMTP smuggling with bare CR/LF end-of-data lookalikes,
 * commands injected before the TLS handshake (CVE-2011-0411), overlong
 * command lines and clients that go quiet.
 *
 * Clients bind distinct loopback addresses (127.0.0.x) so per-IP counters
 * see them as different machines.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect as connectPlain, type Socket } from 'node:net';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { expectClosed, message, openDialogue, queueIdOf, sendMessage, type SmtpDialogue } from '../support/smtp-dialogue.ts';
import { Replies, formatReply } from '../../src/smtp/replies.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const plain = (user: string, pass: string) => `AUTH PLAIN ${b64(`\0${user}\0${pass}`)}`;
const AUTH_FAILED = formatReply(Replies.authFailed());
const AUTH_OK = '235 2.7.0 Authentication successful';
const LOCK_MS = 10 * 60_000;

/** The lock end a throttle reply names, checked against Replies and the 10-minute window. */
function assertThrottled(reply: string, lockedAround: number): void {
  const match = /^421 4\.7\.0 Too many failed logins; try again after (\S+)$/.exec(reply);
  assert.ok(match, `not a throttle reply: ${reply}`);
  const until = Date.parse(match[1]);
  assert.equal(reply, formatReply(Replies.authThrottled(until)));
  assert.ok(Math.abs(until - (lockedAround + LOCK_MS)) < 5000, `locked until ${match[1]}, expected about 10 minutes from now`);
}

describeEachStore('defences against hostile clients', (engine) => {
  let mailroom: TestMailroom;
  let sender: { email: string; secret: string; accountId: string; domain: string };
  let victim: { email: string; secret: string };
  const open: SmtpDialogue[] = [];

  const connect = async (localAddress = '127.0.0.1', tls = false) => {
    const client = await openDialogue(mailroom.port(tls ? 'submissions' : 'submission'), { localAddress, tls });
    open.push(client);
    await client.ehlo();
    return client;
  };
  const loggedIn = async () => {
    const client = await connect();
    assert.equal(await client.say(plain(sender.email, sender.secret)), AUTH_OK);
    return client;
  };
  const messageCount = async () =>
    (await mailroom.running.store.db.selectFrom('messages').select('id').where('account_id', '=', sender.accountId).execute()).length;

  before(async () => {
    mailroom = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp', MAILROOM_SMTP_IDLE_TIMEOUT: '600ms' });
    sender = await mailroom.createSender({ domain: 'legit.example' });
    victim = await mailroom.createSender({ domain: 'victim.example' });
  });
  after(async () => {
    for (const client of open) client.close();
    await mailroom?.stop();
  });

  it('locks an IP out after 10 failed logins: 421 4.7.0 and disconnect, even with the right key; other IPs are unaffected', async () => {
    const guesser = await connect('127.0.0.2');
    const replies: string[] = [];
    for (let i = 1; i <= 10 && !guesser.isClosed(); i++) {
      // A different (unknown) user each time, so only the IP counts up.
      replies.push(await guesser.say(plain(`guess${i}@nowhere.example`, 'mr_wrong')));
    }
    const last = replies.pop()!;
    assert.deepEqual(replies, Array(9).fill(AUTH_FAILED), 'the first nine failures are plain 535s');
    assertThrottled(last, Date.now());
    await expectClosed(guesser);

    const sameIp = await connect('127.0.0.2');
    assertThrottled(await sameIp.say(plain(sender.email, sender.secret)), Date.now());
    await expectClosed(sameIp);

    const otherIp = await connect('127.0.0.3');
    assert.equal(await otherIp.say(plain(sender.email, sender.secret)), AUTH_OK);
  });

  it('never locks an account failed against from several IPs: its owner logs in from an address that has not failed', async () => {
    const replies: string[] = [];
    for (let ip = 4; ip < 9; ip++) {
      const client = await connect(`127.0.0.${ip}`);
      for (let i = 0; i < 2 && !client.isClosed(); i++) replies.push(await client.say(plain(victim.email, `mr_guess${ip}${i}`)));
    }
    assert.deepEqual(replies, Array(10).fill(AUTH_FAILED), 'ten 535s, no 421: a stranger cannot turn failures into a lock');
    const owner = await connect('127.0.0.20');
    assert.equal(await owner.say(plain(victim.email, victim.secret)), AUTH_OK);
    // The guessing IPs each failed only twice: they may still log in to other accounts.
    const bystander = await connect('127.0.0.4');
    assert.equal(await bystander.say(plain(sender.email, sender.secret)), AUTH_OK);
  });

  for (const [name, fakeEnd] of [
    ['LF.LF', '\n.\n'], ['LF.CRLF', '\n.\r\n'], ['CR.CR', '\r.\r'], ['CR.CRLF', '\r.\r\n'],
    ['CRLF.CR', '\r\n.\r'], ['CRLF.LF', '\r\n.\n'], ['CR.LF', '\r.\n'],
  ] as const) {
    it(`never lets a ${name} end-of-data lookalike start a second message`, async () => {
      const before = await messageCount();
      const client = await loggedIn();
      assert.equal(await client.say('MAIL FROM:<news@legit.example>'), '250 2.1.0 Accepted');
      assert.equal(await client.say('RCPT TO:<reader@rcpt.example>'), '250 2.1.5 Accepted');
      assert.equal(await client.say('DATA'), '354 End data with <CR><LF>.<CR><LF>');
      const smuggled = [
        'MAIL FROM:<ceo@victim.example>', 'RCPT TO:<target@rcpt.example>', 'DATA',
        'From: ceo@victim.example', 'To: target@rcpt.example', 'Subject: smuggled', '', 'pay this invoice',
      ].join('\r\n');
      client.write(`${message('news@legit.example', 'reader@rcpt.example')}${fakeEnd}${smuggled}\r\n.\r\n`);
      assert.equal((await client.reply()).join(' | '), formatReply(Replies.bareLineEnding()));
      // Nothing else was answered: the session is still in step with us.
      assert.equal(await client.say('NOOP'), '250 2.0.0 OK');
      assert.equal(await messageCount(), before);
    });
  }

  it('refuses a message with bare LF line endings, whatever else it contains', async () => {
    const client = await loggedIn();
    const lfOnly = 'From: news@legit.example\nTo: reader@rcpt.example\nSubject: unix\n\nbody\n';
    assert.equal(await sendMessage(client, { from: 'news@legit.example', to: ['reader@rcpt.example'] }, `${lfOnly}\r\n`), formatReply(Replies.bareLineEnding()));
  });

  it('discards commands pipelined after STARTTLS before the handshake (CVE-2011-0411)', async () => {
    const client = await connect();
    // Were these run inside the TLS session, the client would be logged in as the sender there.
    await client.startTls(`${plain(sender.email, sender.secret)}\r\nMAIL FROM:<news@legit.example>\r\n`);
    assert.equal(await client.say('NOOP'), '250 2.0.0 OK', 'the first reply under TLS answers the first command sent under TLS');
    await client.ehlo();
    assert.equal(await client.say('MAIL FROM:<news@legit.example>'), formatReply(Replies.authRequired()));
  });

  it('answers an overlong command line 500 5.5.2 and goes on (RFC 5321 4.5.3.1.4)', async () => {
    const client = await loggedIn();
    assert.equal(await client.say(`MAIL FROM:<${'a'.repeat(5000)}@legit.example>`), formatReply(Replies.commandLineTooLong()));
    assert.equal(await client.say('NOOP'), '250 2.0.0 OK');
  });

  it('also drops a client that sends an endless line without CRLF', async () => {
    const client = await loggedIn();
    client.write('NOOP ' + 'x'.repeat(64 * 1024));
    const reply = await client.reply();
    assert.match(reply[0], /^(421 4\.\d\.\d+|500 5\.5\.\d+) .*too long/i);
    await expectClosed(client);
  });

  it('survives a plaintext client on the implicit TLS port and a client that vanishes mid-DATA', async () => {
    const before = await messageCount();
    const confused = await new Promise<Socket>((resolve, reject) => {
      const socket = connectPlain(mailroom.port('submissions'), '127.0.0.1');
      socket.once('connect', () => resolve(socket));
      socket.once('error', reject);
    });
    confused.on('error', () => {});
    confused.write('EHLO plain.client.test\r\n');
    await new Promise((resolve) => confused.once('close', resolve));

    const vanishing = await loggedIn();
    assert.equal(await vanishing.say('MAIL FROM:<news@legit.example>'), '250 2.1.0 Accepted');
    assert.equal(await vanishing.say('RCPT TO:<reader@rcpt.example>'), '250 2.1.5 Accepted');
    assert.equal(await vanishing.say('DATA'), '354 End data with <CR><LF>.<CR><LF>');
    vanishing.write('From: news@legit.example\r\nSubject: half\r\n\r\nhalf a mess');
    vanishing.close();

    const next = await loggedIn();
    queueIdOf(await sendMessage(next, { from: 'news@legit.example', to: ['reader@rcpt.example'] }, message('news@legit.example', 'reader@rcpt.example')));
    const tls = await connect('127.0.0.1', true);
    assert.equal(await tls.say('NOOP'), '250 2.0.0 OK');
    assert.equal(await messageCount(), before + 1, 'only the complete message is stored');
  });

  it('closes an idle connection with 421 after MAILROOM_SMTP_IDLE_TIMEOUT', async () => {
    const client = await loggedIn();
    const started = Date.now();
    assert.match((await client.reply())[0], /^421 4\.\d\.\d+ /);
    await expectClosed(client);
    const waited = Date.now() - started;
    assert.ok(waited >= 500 && waited < 3000, `closed after ${waited}ms, the timeout is 600ms`);
    // A client that keeps talking is not cut off in the middle of its work.
    const busy = await loggedIn();
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 350));
      assert.equal(await busy.say('NOOP'), '250 2.0.0 OK');
    }
    queueIdOf(await sendMessage(busy, { from: 'news@legit.example', to: ['reader@rcpt.example'] }, message('news@legit.example', 'reader@rcpt.example')));
  });
});
