/**
 * Retention on a store filled with messages of every age and state: bodies
 * past MAILROOM_BODY_RETENTION are emptied (headers kept), finished messages
 * past MAILROOM_HISTORY_RETENTION go with their deliveries, attempts and
 * events, usage counters outside the 24-hour window go, and nothing of a
 * message with a queued or deferred recipient is touched however old it is.
 * The writes go through the queue writer as in production (on SQLite, its thread).
 */
import type { DeliveryStatus } from '../../src/queue/delivery-status.ts';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { describeEachStore, createTestStore, type TestStore } from '../support/stores.ts';
import { insertQueuedMessages } from '../../src/queue/enqueue.ts';
import { inThreadWriter, startWriterThread, type QueueWriter } from '../../src/write-operations.ts';
import { startRetentionJob, type RetentionJob } from '../../src/retention/job.ts';
import { firstIdAt } from '../../src/store/ids.ts';
import { findMessage, getMessage } from '../../src/events/message-log.ts';
import { minuteOf } from '../../src/queue/usage.ts';

const DAY = 86_400_000;
const NOW = Date.now();
const SETTINGS = { bodyRetentionMs: 7 * DAY, historyRetentionMs: 30 * DAY, intervalMs: 60_000 };
const silent = pino({ level: 'silent' });

let counter = 0;
/** An id made at `at`, as newId() would have made it then. */
function idAt(at: number): string {
  counter += 1;
  return firstIdAt(at) + String(counter).padStart(11, '0');
}

function rawOf(subject: string): Buffer {
  return Buffer.from(`From: a@sender.example\r\nTo: b@rcpt.example\r\nSubject: ${subject}\r\n\r\n${'body line\r\n'.repeat(200)}`);
}

describeEachStore('retention sweeps', (engine) => {
  let t: TestStore;
  let writer: QueueWriter;
  let job: RetentionJob;
  const ids: Record<string, string> = {};
  const raws: Record<string, Buffer> = {};

  /** A message created `ageDays` ago whose recipients end in `statuses`, the last change `lastChangeDays` ago. */
  async function message(name: string, ageDays: number, statuses: DeliveryStatus[], lastChangeDays: number): Promise<void> {
    const createdAt = NOW - ageDays * DAY;
    const id = idAt(createdAt);
    ids[name] = id;
    raws[name] = rawOf(name);
    const recipients = statuses.map((_, i) => `r${i}@rcpt.example`);
    await t.store.db.transaction().execute((tx) => insertQueuedMessages(tx, [{
      id, accountId: 'acct-1', dailyLimit: null, mailFrom: 'a@sender.example', headerFrom: 'a@sender.example', subject: name,
      raw: raws[name], recipients, source: 'api', tags: [], clientIp: null, idempotencyKey: null,
    }], createdAt));
    const deliveries = await t.store.db.selectFrom('deliveries').select(['id', 'recipient']).where('message_id', '=', id).orderBy('recipient').execute();
    for (const [i, d] of deliveries.entries()) {
      const at = NOW - lastChangeDays * DAY - i; // the first recipient changed last
      await t.store.db.updateTable('deliveries').set({ status: statuses[i], updated_at: at, next_attempt_at: statuses[i] === 'deferred' ? NOW + DAY : at })
        .where('id', '=', d.id).execute();
      await t.store.db.insertInto('attempts').values({
        delivery_id: d.id, message_id: id, at, outcome: statuses[i], mx: 'mx.rcpt.example', ip: '127.0.0.1', tls: null, reply: '250 ok', duration_ms: 5,
      }).execute();
    }
  }

  before(async () => {
    t = await createTestStore(engine);
    await message('old-delivered', 40, ['delivered'], 39);
    await message('week-old-delivered', 10, ['delivered', 'bounced'], 9);
    await message('recent-delivered', 2, ['delivered'], 1);
    await message('old-still-deferred', 60, ['delivered', 'deferred'], 50);
    await message('old-still-queued', 45, ['queued'], 45);
    await message('old-but-finished-lately', 40, ['bounced', 'expired'], 2);
    for (let i = 0; i < 5; i += 1) await message(`old-batch-${i}`, 35, ['delivered'], 34);
    await t.store.db.insertInto('usage').values([
      { account_id: 'acct-1', minute: minuteOf(NOW - 25 * 3_600_000), count: 3 },
      { account_id: 'acct-1', minute: minuteOf(NOW - 60_000), count: 2 },
    ]).execute();
    writer = engine === 'sqlite' ? await startWriterThread(t.url) : inThreadWriter(t.store);
    // Batches of two: the sweep has to carry its cursor past kept messages across batches.
    job = startRetentionJob({ writer, engine, nodeId: 'node-a', settings: SETTINGS, logger: silent }, { batchSize: 2, pauseMs: 0, writerShare: 1, firstPassAfterMs: 3_600_000 });
  });
  after(async () => {
    await job?.stop();
    await writer?.close();
    await t?.cleanup();
  });

  test('one pass: old history deleted, old bodies emptied, queued and deferred messages untouched', async () => {
    const report = await job.runPass(NOW);
    assert.ok(report);
    assert.equal(report.messagesDeleted, 6); // old-delivered and the five old-batch messages
    assert.equal(report.bodiesExpired, 1); // week-old-delivered: the six past the history cut-off were deleted whole first
    assert.equal(report.usageRows, 1);

    const messages = await t.store.db.selectFrom('messages').select(['id', 'raw', 'body_expired_at']).execute();
    const byId = new Map(messages.map((m) => [m.id, m]));
    for (const gone of ['old-delivered', 'old-batch-0', 'old-batch-4']) {
      assert.equal(byId.has(ids[gone]), false, `${gone} is deleted`);
      for (const table of ['deliveries', 'attempts', 'message_events'] as const) {
        const left = await t.store.db.selectFrom(table).select('message_id').where('message_id', '=', ids[gone]).execute();
        assert.equal(left.length, 0, `${gone}: no ${table} rows left`);
      }
    }
    for (const whole of ['recent-delivered', 'old-still-deferred', 'old-still-queued']) {
      const row = byId.get(ids[whole]);
      assert.ok(row, `${whole} is kept`);
      assert.equal(row.body_expired_at, null);
      assert.ok(Buffer.from(row.raw).equals(raws[whole]), `${whole}: body byte for byte`);
    }
    const emptied = byId.get(ids['week-old-delivered'])!;
    assert.equal(Number(emptied.body_expired_at), NOW);
    assert.equal(Buffer.from(emptied.raw).toString(), 'From: a@sender.example\r\nTo: b@rcpt.example\r\nSubject: week-old-delivered\r\n\r\n');
    // Finished only two days ago: its body stays although the message is 40 days old.
    assert.equal(byId.get(ids['old-but-finished-lately'])!.body_expired_at, null);

    const usage = await t.store.db.selectFrom('usage').select('count').execute();
    assert.deepEqual(usage.map((u) => Number(u.count)), [2]);
  });

  test('the message log says plainly what expired', async () => {
    const view = await findMessage(t.store, ids['week-old-delivered'], null);
    assert.ok(view?.bodyExpiredAt);
    assert.match(view.notice ?? '', /body of this message expired/);
    assert.deepEqual(view.headers.map((h) => h.name), ['from', 'to', 'subject']);
    assert.equal(view.recipients.length, 2);
    assert.equal(view.recipients[0].attempts.length, 1);

    const kept = await findMessage(t.store, ids['recent-delivered'], null);
    assert.equal(kept?.bodyExpiredAt, undefined);
    assert.equal(kept?.notice, undefined);

    await assert.rejects(getMessage(t.store, ids['old-delivered'], null, { historyRetentionMs: SETTINGS.historyRetentionMs }, NOW),
      (error: Error & { code?: string }) => error.code === 'message_expired' && /longer ago than the message history is kept/.test(error.message));
    // A young id that does not exist is just unknown.
    await assert.rejects(getMessage(t.store, idAt(NOW - DAY), null, { historyRetentionMs: SETTINGS.historyRetentionMs }, NOW), { code: 'unknown_message' });
  });

  test('a second pass finds nothing more to do', async () => {
    const report = await job.runPass(NOW);
    assert.deepEqual([report?.bodiesExpired, report?.messagesDeleted, report?.usageRows], [0, 0, 0]);
  });

  test('one node at a time: another node skips while the lease is held, and takes over once it is let go', async () => {
    const other = startRetentionJob({ writer, engine, nodeId: 'node-b', settings: SETTINGS, logger: silent }, { pauseMs: 0, firstPassAfterMs: 3_600_000 });
    try {
      assert.equal(await other.runPass(NOW), null);
      await job.stop();
      assert.ok(await other.runPass(NOW));
      // And now node-b holds it.
      const again = startRetentionJob({ writer, engine, nodeId: 'node-a', settings: SETTINGS, logger: silent }, { pauseMs: 0, firstPassAfterMs: 3_600_000 });
      assert.equal(await again.runPass(NOW), null);
      await again.stop();
    } finally {
      await other.stop();
    }
  });
});
