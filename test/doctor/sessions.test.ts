/**
 * The doctor's session log, fed by real SMTP sessions against a running
 * Mailroom: each failure class a Send-As user meets comes back with the
 * client's address, listener, TLS facts, AUTH mechanism and user, and a
 * reason in plain words.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { createAccount } from '../../src/accounts/accounts.ts';
import { createSecretKey, revokeSecretKey } from '../../src/accounts/keys.ts';
import { addDomain } from '../../src/domains/domains.ts';
import { recentSessions, type DoctorSessions } from '../../src/doctor/sessions.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { openDialogue, openStartTls } from '../support/smtp-dialogue.ts';
import { describeEachStore } from '../support/stores.ts';

describeEachStore('Send-As doctor: recent sessions and why they failed', (engine) => {
  let mailroom: TestMailroom;

  before(async () => {
    mailroom = await startTestMailroom(engine);
  });
  after(() => mailroom?.stop());

  /** The account's sessions once `ready` holds (closing a session and writing it take a moment). */
  async function sessionsOf(accountId: string, ready: (view: DoctorSessions) => boolean): Promise<DoctorSessions> {
    const deadline = Date.now() + 5000;
    for (;;) {
      await mailroom.running.smtpSessions.flush();
      const view = await recentSessions(mailroom.running.store, accountId, { isAdmin: false });
      if (ready(view) || Date.now() > deadline) return view;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('a good login over STARTTLS: listener, TLS version and cipher, SNI, mechanism and user', async () => {
    const sender = await mailroom.createSender();
    const session = await openStartTls({ port: mailroom.port('submission'), servername: mailroom.config.hostname });
    assert.match(await session.say('EHLO client.test'), /^250 /);
    assert.match(await session.say(`AUTH PLAIN ${Buffer.from(`\0${sender.email}\0${sender.secret}`).toString('base64')}`), /^235 /);
    assert.match(await session.say('QUIT'), /^221 /);
    const view = await sessionsOf(sender.accountId, (v) => v.sessions.length > 0);
    assert.equal(view.sessions.length, 1);
    const [seen] = view.sessions;
    assert.equal(seen.result, 'ok');
    assert.equal(seen.problem, null);
    assert.equal(seen.clientIp, '127.0.0.1');
    assert.equal(seen.listener, 'submission');
    assert.match(seen.tls?.version ?? '', /^TLSv1\.[23]$/);
    assert.ok(seen.tls?.cipher);
    assert.equal(seen.sni, mailroom.config.hostname);
    assert.deepEqual(seen.auth, { mechanism: 'PLAIN', user: sender.email });
  });

  it('wrong key and revoked key, told apart', async () => {
    const sender = await mailroom.createSender();
    const revoked = await createSecretKey(mailroom.running.store.db, sender.accountId, 'old phone');
    await revokeSecretKey(mailroom.running.store, revoked.id, sender.accountId);
    for (const password of ['mr_not-a-key-at-all', revoked.secret]) {
      const dialogue = await openDialogue(mailroom.port('submissions'), { tls: true });
      await dialogue.ehlo();
      assert.match(await dialogue.authPlain(sender.email, password), /^535 5\.7\.8 /);
      dialogue.close();
    }
    const view = await sessionsOf(sender.accountId, (v) => v.sessions.length >= 2);
    const codes = view.sessions.map((s) => s.problem?.code).sort();
    assert.deepEqual(codes, ['revoked-key', 'wrong-key']);
    const wrong = view.sessions.find((s) => s.problem?.code === 'wrong-key')!;
    assert.equal(wrong.result, 'failed');
    assert.equal(wrong.listener, 'submissions');
    assert.deepEqual(wrong.auth, { mechanism: 'PLAIN', user: sender.email });
    assert.match(wrong.problem!.words, /^Wrong password: it is not a secret key of this account/);
    assert.match(view.sessions.find((s) => s.problem?.code === 'revoked-key')!.problem!.words, /has been revoked\. Create a new key/);
  });

  it('a sender domain that is not verified yet', async () => {
    const { account, key } = await createAccount(mailroom.running.store, { email: 'owner@pending.example', dailyLimit: 100 });
    await addDomain(mailroom.running.store, account.id, 'pending.example', mailroom.config.hostname);
    const dialogue = await openDialogue(mailroom.port('submission'));
    await dialogue.ehlo();
    assert.match(await dialogue.authPlain(account.email, key.secret), /^235 /);
    assert.match(await dialogue.say('MAIL FROM:<owner@pending.example>'), /^550 5\.7\.1 /);
    dialogue.close();
    const view = await sessionsOf(account.id, (v) => v.sessions.length > 0);
    assert.equal(view.sessions[0].problem?.code, 'domain-not-verified');
    assert.equal(view.sessions[0].tls, null, 'plain session: no TLS facts');
    assert.match(view.sessions[0].problem!.words, /sender domain pending\.example is not verified yet: publish its DNS records and press Verify/);
  });

  it('the daily limit reached', async () => {
    const sender = await mailroom.createSender({ dailyLimit: 1 });
    const dialogue = await openDialogue(mailroom.port('submission'));
    await dialogue.ehlo();
    assert.match(await dialogue.authPlain(sender.email, sender.secret), /^235 /);
    assert.match(await dialogue.say(`MAIL FROM:<${sender.email}>`), /^250 /);
    assert.match(await dialogue.say('RCPT TO:<a@example.net>'), /^250 /);
    assert.match(await dialogue.say('RCPT TO:<b@example.net>'), /^451 4\.7\.1 /);
    dialogue.close();
    const view = await sessionsOf(sender.accountId, (v) => v.sessions.length > 0);
    assert.equal(view.sessions[0].problem?.code, 'limit-reached');
    assert.match(view.sessions[0].problem!.words, /daily sending limit of 1 emails was reached; it resets at \d{4}-/);
  });

  it('TLS handshake failures: a client too old, one speaking plain text, and clients refusing the certificate', async () => {
    const sender = await mailroom.createSender();
    // Logging in from 127.0.0.1 makes that address "known" to the account, so it is shown on failures.
    const dialogue = await openDialogue(mailroom.port('submission'));
    await dialogue.ehlo();
    await dialogue.authPlain(sender.email, sender.secret);
    dialogue.close();

    const implicitPort = mailroom.port('submissions');
    await expectHandshakeFailure(tls.connect({ host: '127.0.0.1', port: implicitPort, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0', rejectUnauthorized: false }));
    const plain = net.connect({ host: '127.0.0.1', port: implicitPort });
    plain.on('error', () => {});
    plain.write('EHLO plain.client\r\n');
    // A strict client refusing the self-signed certificate in the middle of the handshake (TLS 1.3)...
    await expectHandshakeFailure(tls.connect({ host: '127.0.0.1', port: implicitPort, servername: mailroom.config.hostname }));
    // ...and one that checks only once the session is up, then leaves without a word.
    const checker = tls.connect({ host: '127.0.0.1', port: implicitPort, servername: mailroom.config.hostname, rejectUnauthorized: false });
    await new Promise((resolve) => checker.once('data', resolve));
    checker.destroy();

    const view = await sessionsOf(sender.accountId, (v) => v.tlsFailures.length >= 4);
    plain.destroy();
    const codes = view.tlsFailures.map((f) => f.problem.code);
    assert.equal(codes.filter((code) => code === 'tls-handshake').length, 3, JSON.stringify(view.tlsFailures));
    assert.equal(codes.filter((code) => code === 'tls-abandoned').length, 1, JSON.stringify(view.tlsFailures));
    const words = view.tlsFailures.map((f) => f.problem.words).join('\n');
    assert.match(words, /no TLS version or cipher in common: the client is too old/);
    assert.match(words, /did not speak TLS on a TLS port/);
    assert.match(words, /closed the connection during the TLS handshake, usually because it did not accept our certificate/);
    assert.match(words, /closed the connection right after the TLS handshake, before saying anything/);
    assert.ok(view.tlsFailures.every((f) => f.listener === 'submissions' && f.clientIp === '127.0.0.1'));

    // Another account that never logged in from here does not see the address.
    const stranger = await createAccount(mailroom.running.store, { email: 'stranger@elsewhere.example', dailyLimit: 10 });
    const theirs = await recentSessions(mailroom.running.store, stranger.account.id, { isAdmin: false });
    assert.ok(theirs.tlsFailures.length >= 4);
    assert.ok(theirs.tlsFailures.every((f) => f.clientIp === null));
  });
});

function expectHandshakeFailure(socket: tls.TLSSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('secureConnect', () => {
      socket.destroy();
      reject(new Error('the handshake succeeded'));
    });
    socket.once('error', () => {
      socket.destroy();
      resolve();
    });
  });
}
