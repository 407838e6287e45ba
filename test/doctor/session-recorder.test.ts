/**
 * The session log stays small and costs the SMTP path nothing: notes are
 * memory only, rows are written in batches, each account keeps its last 50,
 * and a failed login names its account by the username.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { createAccount } from '../../src/accounts/accounts.ts';
import { SessionRecorder } from '../../src/doctor/session-recorder.ts';
import { startQueueWriter, type QueueWriter } from '../../src/write-operations.ts';
import type { SMTPServerSession } from '../../src/smtp/library.ts';
import { createTestStore, describeEachStore, type TestStore } from '../support/stores.ts';

let sessionCounter = 0;
function fakeSession(): SMTPServerSession {
  sessionCounter += 1;
  return { id: `s${sessionCounter}`, remoteAddress: '192.0.2.7', secure: true, tlsOptions: { name: 'TLS_AES_256_GCM_SHA384', standardName: 'TLS_AES_256_GCM_SHA384', version: 'TLSv1.3' }, servername: 'mail.example.test', hostNameAppearsAs: 'client.test', user: false } as unknown as SMTPServerSession;
}

describeEachStore('session recorder', (engine) => {
  let test: TestStore;
  let writer: QueueWriter;
  before(async () => {
    test = await createTestStore(engine);
    writer = await startQueueWriter(test.store, test.url);
  });
  after(async () => {
    await writer?.close();
    await test?.cleanup();
  });

  it('keeps the last 50 sessions per account, written in one batch', async () => {
    const { account } = await createAccount(test.store, { email: 'busy@example.test', dailyLimit: 10 });
    const recorder = new SessionRecorder(writer, pino({ level: 'silent' }), { flushMs: 60_000 });
    for (let i = 0; i < 60; i++) {
      const session = fakeSession();
      recorder.note(session, { kind: 'auth-succeeded', method: 'PLAIN', user: account.email, accountId: account.id });
      recorder.note(session, { kind: 'accepted' });
      recorder.closed(session, 'submissions');
    }
    const before = await test.store.db.selectFrom('smtp_sessions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(before.n), 0, 'nothing written until the batch is flushed');
    await recorder.stop();
    const rows = await test.store.db.selectFrom('smtp_sessions').selectAll().where('account_id', '=', account.id).orderBy('id').execute();
    assert.equal(rows.length, 50);
    assert.deepEqual([rows[0].tls_version, rows[0].tls_cipher, rows[0].sni, rows[0].messages], ['TLSv1.3', 'TLS_AES_256_GCM_SHA384', 'mail.example.test', 1]);
  });

  it('ties a failed login to the account its username names; sessions with nothing to tell are not kept', async () => {
    const { account } = await createAccount(test.store, { email: 'forgetful@example.test', dailyLimit: 10 });
    const recorder = new SessionRecorder(writer, pino({ level: 'silent' }));
    const failed = fakeSession();
    recorder.note(failed, { kind: 'auth-failed', method: 'LOGIN', user: account.email, reason: 'wrong-key' });
    recorder.closed(failed, 'submission');
    recorder.closed(fakeSession(), 'submission');
    await recorder.stop();
    const rows = await test.store.db.selectFrom('smtp_sessions').selectAll().where('account_id', '=', account.id).execute();
    assert.equal(rows.length, 1);
    assert.equal(rows[0].outcome, 'auth-failed');
    assert.equal(rows[0].auth_method, 'LOGIN');
  });
});
