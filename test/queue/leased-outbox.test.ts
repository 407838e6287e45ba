/**
 * The leased outbox behind mail deliveries and webhook requests: a row goes to one claimer,
 * only its lease's owner can extend, give back or settle it, and a settled row is not pending
 * any more. And the status rules it settles by: a change the transitions table does not list
 * is refused before any SQL runs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore, createTestStore, type TestStore } from '../support/stores.ts';
import { insertQueuedMessages } from '../../src/queue/enqueue.ts';
import { MAIL_OUTBOX, claimDueDeliveries } from '../../src/queue/claim-deliveries.ts';
import { WEBHOOK_OUTBOX, claimWebhookDeliveries } from '../../src/events/webhooks-outbox.ts';
import { changeStatus } from '../../src/queue/status-change.ts';
import { DELIVERY_STATUSES, PENDING_STATUSES, TRANSITIONS, statusesBefore } from '../../src/queue/delivery-status.ts';
import { backoffRetry, nextTry, scheduleRetry } from '../../src/queue/retry.ts';
import { newId } from '../../src/store/ids.ts';

const LEASE = 60_000;

test('every transition leads to a status, and nothing leads back to pending except a release of scheduled mail', () => {
  for (const [from, targets] of Object.entries(TRANSITIONS)) {
    for (const to of targets) assert.ok(DELIVERY_STATUSES.includes(to), `${from} → ${to}`);
  }
  assert.deepEqual(statusesBefore('queued'), ['scheduled']);
  assert.deepEqual(statusesBefore('cancelled'), ['scheduled']);
  assert.deepEqual(statusesBefore('complained'), [...DELIVERY_STATUSES]);
});

test('retry policies: the next try, and giving up past the queue time', () => {
  const mail = scheduleRetry([60_000, 600_000], 3_600_000);
  assert.deepEqual(nextTry(mail, 1, 0, 1000, () => 0.5), { nextAttemptAt: 61_000, givesUp: false });
  assert.deepEqual(nextTry(mail, 5, 0, 3_000_000, () => 0.5), { nextAttemptAt: 3_600_000, givesUp: false });
  assert.equal(nextTry(mail, 5, 0, 3_000_001, () => 0.5).givesUp, true);
  const hooks = backoffRetry({ firstDelayMs: 1000, maxDelayMs: 4000, giveUpAfterMs: 10_000 });
  assert.deepEqual([1, 2, 3, 4].map((n) => nextTry(hooks, n, 0, 0, () => 0.5).nextAttemptAt), [1000, 2000, 4000, 4000]);
  assert.equal(nextTry(hooks, 9, 0, 6001, () => 0.5).givesUp, true);
});

describeEachStore('leased outbox', (engine) => {
  let t: TestStore;
  before(async () => { t = await createTestStore(engine); });
  after(() => t.cleanup());

  async function queue(recipients: string[], now: number): Promise<void> {
    await t.store.db.transaction().execute((tx) => insertQueuedMessages(tx, [{
      id: newId(), accountId: null, dailyLimit: null, mailFrom: 'a@sender.example', headerFrom: 'a@sender.example', subject: 'outbox',
      raw: Buffer.from('Subject: outbox\r\n\r\nhello\r\n'), recipients, source: 'api', tags: [], clientIp: null, idempotencyKey: null,
    }], now));
  }

  async function delivery(id: string) {
    const row = await t.store.db.selectFrom('deliveries').select(['status', 'lease_owner', 'next_attempt_at', 'attempt_count']).where('id', '=', id).executeTakeFirstOrThrow();
    return { ...row, next_attempt_at: Number(row.next_attempt_at), attempt_count: Number(row.attempt_count) };
  }

  test('mail: each due delivery goes to one claimer; only its owner extends, settles and gives it back', async () => {
    const now = Date.now();
    await queue(['one@rcpt.example', 'two@rcpt.example', 'three@rcpt.example'], now - 1000);
    const db = t.store.db;
    const first = await claimDueDeliveries(db, engine, { owner: 'node-a', now, leaseMs: LEASE, limit: 2 });
    const second = await claimDueDeliveries(db, engine, { owner: 'node-b', now, leaseMs: LEASE, limit: 5 });
    assert.equal(first.length, 2);
    assert.equal(second.length, 1);
    assert.equal(new Set([...first, ...second].map((d) => d.id)).size, 3);
    assert.ok(first.every((d) => d.size > 0 && d.attempt_count === 0));
    assert.deepEqual(await claimDueDeliveries(db, engine, { owner: 'node-c', now, leaseMs: LEASE, limit: 5 }), []);

    const [a1, a2] = first;
    const [b1] = second;
    await MAIL_OUTBOX.extend(db, engine, 'node-a', [a1.id, b1.id], now + 5 * LEASE);
    assert.equal((await delivery(a1.id)).next_attempt_at, now + 5 * LEASE);
    assert.equal((await delivery(b1.id)).next_attempt_at, now + LEASE, 'not node-a\'s lease');

    const columns = { attempt_count: 1, next_attempt_at: now, last_reply: '250 ok', updated_at: now };
    assert.equal(await MAIL_OUTBOX.settle(db, { id: b1.id, owner: 'node-a', status: 'delivered', columns }), false);
    assert.equal(await MAIL_OUTBOX.settle(db, { id: a1.id, owner: 'node-a', status: 'delivered', columns }), true);
    assert.deepEqual({ ...(await delivery(a1.id)), next_attempt_at: 0 }, { status: 'delivered', lease_owner: null, next_attempt_at: 0, attempt_count: 1 });
    assert.equal(await MAIL_OUTBOX.settle(db, { id: a1.id, owner: 'node-a', status: 'delivered', columns }), false, 'settled once');

    // A restarted node-a gives back all it still holds: a2, not a1 (settled) nor b1 (node-b's).
    assert.equal(await MAIL_OUTBOX.release(db, { owner: 'node-a', ids: null, dueAt: now }), 1);
    assert.deepEqual(await delivery(a2.id), { status: 'queued', lease_owner: null, next_attempt_at: now, attempt_count: 0 });
    assert.equal((await delivery(b1.id)).lease_owner, 'node-b');
  });

  test('mail: a status change the transitions do not allow is refused before it runs', async () => {
    assert.throws(() => changeStatus(t.store.db, ['delivered'], 'queued', {}), /may not go from delivered to queued/);
    assert.throws(() => changeStatus(t.store.db, PENDING_STATUSES, 'cancelled', {}), /may not go from queued to cancelled/);
    await assert.rejects(MAIL_OUTBOX.settle(t.store.db, { id: 'x', owner: 'node-a', status: 'scheduled', columns: {} }), /may not go from queued to scheduled/);
  });

  test('webhooks: the same outbox, with its own table and statuses', async () => {
    const now = Date.now();
    const accountId = newId();
    await t.store.db.insertInto('accounts').values({ id: accountId, email: `${accountId}@example.com`, password_hash: 'x', daily_limit: 100, is_admin: 0, created_at: now }).execute();
    const webhookId = newId();
    await t.store.db.insertInto('webhooks').values({ id: webhookId, account_id: accountId, url: 'http://127.0.0.1:9/hook', events: '["delivered"]', secret: 's', created_at: now }).execute();
    const rows = [newId(), newId()];
    await t.store.db.insertInto('webhook_deliveries').values(rows.map((id) => ({
      id, webhook_id: webhookId, account_id: accountId, event_id: null, event_type: 'test', payload: '{}', status: 'pending' as const, attempt_count: 0,
      next_attempt_at: now - 1, lease_owner: null, last_status_code: null, last_error: null, created_at: now, updated_at: now, delivered_at: null,
    }))).execute();
    const claimed = await t.store.db.transaction().execute((tx) => claimWebhookDeliveries(tx, t.store.engine, 'd-1', now, LEASE, 10));
    assert.deepEqual(claimed.map((row) => row.id).sort(), [...rows].sort());
    assert.equal(claimed[0].url, 'http://127.0.0.1:9/hook');
    assert.deepEqual(await t.store.db.transaction().execute((tx) => claimWebhookDeliveries(tx, t.store.engine, 'd-2', now, LEASE, 10)), []);
    const columns = { attempt_count: 1, next_attempt_at: now, updated_at: now, delivered_at: now, last_status_code: 200, last_error: null };
    assert.equal(await WEBHOOK_OUTBOX.settle(t.store.db, { id: rows[0], owner: 'd-2', status: 'delivered', columns }), false);
    assert.equal(await WEBHOOK_OUTBOX.settle(t.store.db, { id: rows[0], owner: 'd-1', status: 'delivered', columns }), true);
    assert.equal(await WEBHOOK_OUTBOX.release(t.store.db, { owner: 'd-1', ids: rows, dueAt: now }), 1, 'only the row still pending');
    assert.deepEqual((await t.store.db.transaction().execute((tx) => claimWebhookDeliveries(tx, t.store.engine, 'd-2', now, LEASE, 10))).map((row) => row.id), [rows[1]]);
    assert.throws(() => WEBHOOK_OUTBOX.spec.changeStatus(t.store.db, ['delivered'], 'pending', {}), /may not go from delivered to pending/);
  });
});
