/**
 * The queue writer's one failure rule, on both engines (SQLite: its writer
 * thread; PostgreSQL: this thread): requests asked for together share a group
 * commit, and a request that fails fails alone — its batch-mates, of the same
 * operation (run as one statement) or of others, are committed.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { startQueueWriter, type QueueWriter } from '../../src/write-operations.ts';
import { Enqueuer, type Submission } from '../../src/queue/enqueue.ts';
import { createAccount } from '../../src/accounts/accounts.ts';
import { newId } from '../../src/store/ids.ts';
import { createTestStore, describeEachStore, type TestStore } from '../support/stores.ts';

describeEachStore('queue writer: a failing request fails alone', (engine) => {
  let t: TestStore;
  let writer: QueueWriter;
  let accountId: string;
  let keyId: string;
  before(async () => {
    t = await createTestStore(engine);
    writer = await startQueueWriter(t.store, t.url);
    const created = await createAccount(t.store, { email: 'owner@writer.example', dailyLimit: 1000 });
    accountId = created.account.id;
    keyId = created.key.id;
  });
  after(async () => {
    await writer?.close();
    await t?.cleanup();
  });

  const submission = (id: string): Submission => ({
    id, accountId, dailyLimit: 1000, mailFrom: 'app@writer.example', headerFrom: 'app@writer.example', subject: 'hello',
    raw: Buffer.from(`Subject: hello\r\n\r\n${id}\r\n`), recipients: ['someone@elsewhere.example'], source: 'api', tags: [], clientIp: null, idempotencyKey: null,
  });
  const commit = (s: Submission) => writer.run('commitSubmissions', { submissions: [s], now: Date.now() });

  it('commits the batch-mates of a request that fails, and fails that one with its own error', async () => {
    const taken = newId();
    assert.equal((await commit(submission(taken)))[0].ok, true);

    // Asked for in one turn: one batch. The second reuses a committed message id (a primary key violation).
    const first = newId();
    const last = newId();
    const at = Date.now();
    const answers = await Promise.allSettled([
      commit(submission(first)),
      commit(submission(taken)),
      writer.run('touchSecretKeys', { uses: [{ keyId, at, ip: '192.0.2.7' }] }),
      commit(submission(last)),
    ]);
    assert.deepEqual(answers.map((a) => a.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    assert.match(String((answers[1] as PromiseRejectedResult).reason), /unique|duplicate|primary/i);

    const messages = await t.store.db.selectFrom('messages').select('id').execute();
    assert.deepEqual(new Set(messages.map((m) => m.id)), new Set([taken, first, last]));
    const deliveries = await t.store.db.selectFrom('deliveries').select('message_id').execute();
    assert.equal(deliveries.length, 3, 'one delivery per committed message, none for the failed one');
    const key = await t.store.db.selectFrom('secret_keys').select(['last_used_at', 'last_used_ip']).where('id', '=', keyId).executeTakeFirstOrThrow();
    assert.deepEqual({ at: Number(key.last_used_at), ip: key.last_used_ip }, { at, ip: '192.0.2.7' });
  });

  it('through the Enqueuer too: messages committed together are refused alone', async () => {
    const enqueuer = new Enqueuer(writer);
    const taken = newId();
    assert.equal((await enqueuer.enqueue(submission(taken))).ok, true);
    const before = await t.store.db.selectFrom('messages').select('id').execute();
    const fresh = [newId(), newId()];
    const answers = await Promise.allSettled([enqueuer.enqueue(submission(fresh[0])), enqueuer.enqueue(submission(taken)), enqueuer.enqueue(submission(fresh[1]))]);
    assert.deepEqual(answers.map((a) => a.status), ['fulfilled', 'rejected', 'fulfilled']);
    const after = await t.store.db.selectFrom('messages').select('id').execute();
    assert.equal(after.length, before.length + 2);
  });

  it('answers each request of a batch that succeeds, in order', async () => {
    const ids = Array.from({ length: 20 }, () => newId());
    const results = await Promise.all(ids.map((id) => commit(submission(id))));
    assert.deepEqual(results.map((r) => (r[0].ok ? r[0].id : null)), ids);
  });
});
