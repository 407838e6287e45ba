/**
 * A login through SMTP notes its key's use in memory; the times reach the
 * store in bulk through the queue writer, and never move back in time.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { describeEachStore, createTestStore, type TestStore } from '../support/stores.ts';
import { createAccount } from '../../src/accounts/accounts.ts';
import { listSecretKeys } from '../../src/accounts/keys.ts';
import { authenticateKey } from '../../src/accounts/authorise.ts';
import { KeyUseLog } from '../../src/accounts/key-use-log.ts';
import { startQueueWriter, type QueueWriter } from '../../src/write-operations.ts';

describeEachStore('key use log', (engine) => {
  let t: TestStore;
  let writer: QueueWriter;
  before(async () => {
    t = await createTestStore(engine);
    writer = await startQueueWriter(t.store, t.url);
  });
  after(async () => {
    await writer?.close();
    await t?.cleanup();
  });

  it('writes the last use of each key only when flushed, in one batch', async () => {
    const { account, key } = await createAccount(t.store, { email: 'busy@example.com', dailyLimit: 10 });
    const log = new KeyUseLog(writer, pino({ level: 'silent' }), { flushMs: 60_000 });
    const before = Date.now();
    const check = await authenticateKey(t.store, { secret: key.secret, email: 'busy@example.com', door: 'smtp', ip: '127.0.0.7' }, Date.now(), log);
    assert.equal(check.ok, true);
    assert.equal((await listSecretKeys(t.store, account.id))[0].lastUsedAt, null, 'the check itself writes nothing');
    await log.stop();
    const [row] = await listSecretKeys(t.store, account.id);
    assert.ok(row.lastUsedAt !== null && row.lastUsedAt >= before, `last used at ${row.lastUsedAt}`);
    assert.equal(row.lastUsedIp, '127.0.0.7', 'the client address goes with the time');
  });

  it('keeps the latest time when uses arrive out of order', async () => {
    const { account, key } = await createAccount(t.store, { email: 'late@example.com', dailyLimit: 10 });
    const log = new KeyUseLog(writer, pino({ level: 'silent' }), { flushMs: 60_000 });
    log.used(key.id, 2_000_000, null);
    log.used(key.id, 1_000_000, null);
    await log.flush();
    log.used(key.id, 1_500_000, null);
    await log.stop();
    assert.equal((await listSecretKeys(t.store, account.id))[0].lastUsedAt, 2_000_000);
  });
});
