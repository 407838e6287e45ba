/**
 * MAILROOM_SMTP_THREADS: submission sessions on threads sharing the ports.
 * Messages sent through any thread are committed by the node's one queue
 * writer (the 250 names a queued message); the doctor's session log and the
 * keys' last use reach the store from every thread; failed logins count.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { message, openDialogue, queueIdOf, sendMessage } from '../support/smtp-dialogue.ts';
import { listSecretKeys } from '../../src/accounts/keys.ts';
import tls from 'node:tls';

/** One implicit-TLS connection offering `session`; resolves once the greeting (and with it the ticket) has come. */
function tlsConnect(port: number, session?: Buffer): Promise<{ reused: boolean; keyType: string | undefined; ticket: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'mailroom.test', session });
    let ticket: Buffer | undefined = session;
    socket.on('session', (fresh: Buffer) => { ticket = fresh; });
    socket.once('error', reject);
    socket.once('data', () => {
      // TLS 1.3 tickets come after the handshake, with or before the 220.
      setImmediate(() => {
        resolve({ reused: socket.isSessionReused(), keyType: socket.getPeerX509Certificate()?.publicKey.asymmetricKeyType, ticket: ticket! });
        socket.destroy();
      });
    });
  });
}

const SESSIONS = 8;

describeEachStore('SMTP sessions on threads', (engine) => {
  let mailroom: TestMailroom;
  before(async () => {
    mailroom = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp,http', MAILROOM_SMTP_THREADS: '2' });
  });
  after(() => mailroom?.stop());

  it('names the threads in its listeners', () => {
    const names = mailroom.running.listeners.map((l) => l.name);
    assert.ok(names.includes('submission (plain, STARTTLS offered) on 2 threads'), names.join(', '));
    assert.ok(names.includes('submission (implicit TLS) on 2 threads'), names.join(', '));
  });

  it('queues messages sent in one session each, on both ports, and records the sessions and the key use', async () => {
    const sender = await mailroom.createSender();
    const ids: string[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const implicit = i % 2 === 1;
      const client = await openDialogue(mailroom.port(implicit ? 'submissions' : 'submission'), { tls: implicit });
      try {
        await client.ehlo();
        assert.match(await client.say(`AUTH PLAIN ${Buffer.from(`\0${sender.email}\0${sender.secret}`).toString('base64')}`), /^235 /);
        const reply = await sendMessage(client, { from: sender.email, to: [`to${i}@rcpt.example`] }, message(sender.email, `to${i}@rcpt.example`));
        ids.push(queueIdOf(reply));
      } finally {
        client.close();
      }
    }
    const stored = await mailroom.running.store.db.selectFrom('messages').select('id').where('id', 'in', ids).execute();
    assert.equal(stored.length, SESSIONS, 'every acknowledged message is in the store');

    // Notes cross from the threads within a turn of their event loop; then the recorder writes them.
    let rows: unknown[] = [];
    for (let tries = 0; tries < 50 && rows.length < SESSIONS; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      await mailroom.running.smtpSessions.flush();
      rows = await mailroom.running.store.db.selectFrom('smtp_sessions').select('id').where('account_id', '=', sender.accountId).execute();
    }
    assert.equal(rows.length, SESSIONS, 'the doctor sees every session');
  });

  it('refuses a wrong key with 535 on a thread, and the failure is counted in the store', async () => {
    const sender = await mailroom.createSender();
    const client = await openDialogue(mailroom.port('submission'));
    try {
      await client.ehlo();
      assert.match(await client.say(`AUTH PLAIN ${Buffer.from(`\0${sender.email}\0mr_wrong`).toString('base64')}`), /^535 5\.7\.8 /);
    } finally {
      client.close();
    }
    const failures = await mailroom.running.store.db.selectFrom('auth_failures').select('key').where('key', '=', `account:${sender.email}`).execute();
    assert.equal(failures.length, 1);
  });

  it('records when a key was last used, within about a second', async () => {
    const sender = await mailroom.createSender();
    const client = await openDialogue(mailroom.port('submission'));
    try {
      await client.ehlo();
      assert.match(await client.say(`AUTH PLAIN ${Buffer.from(`\0${sender.email}\0${sender.secret}`).toString('base64')}`), /^235 /);
    } finally {
      client.close();
    }
    let lastUsedAt: number | null = null;
    for (let tries = 0; tries < 60 && lastUsedAt === null; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      lastUsedAt = (await listSecretKeys(mailroom.running.store, sender.accountId))[0].lastUsedAt;
    }
    assert.ok(lastUsedAt !== null, 'the key use reached the store within the flush interval');
  });

  it('resumes the TLS session of a client that reconnects, whichever thread takes the connection (shared ticket keys)', async () => {
    const port = mailroom.port('submissions');
    const first = await tlsConnect(port);
    assert.equal(first.reused, false);
    assert.equal(first.keyType, 'ec', 'a client that can verify ECDSA gets the ECDSA certificate from a thread too');
    // The kernel spreads connections over both threads by their source port: among 12, both take some.
    for (let i = 0; i < 12; i++) {
      const again = await tlsConnect(port, first.ticket);
      assert.equal(again.reused, true, `reconnection ${i + 1} resumes the first session`);
    }
  });
});
