import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStore, describeEachStore, type TestStore } from '../support/stores.ts';
import { createAccount } from '../../src/accounts/accounts.ts';
import { recordEvents, type MessageEvent } from '../../src/queue/message-events.ts';
import { createWebhook } from '../../src/events/webhooks.ts';
import { fanOutEvents } from '../../src/events/webhooks-fanout.ts';
import { backoffDelay } from '../../src/queue/retry.ts';

describeEachStore('webhook fan-out feed', (engine) => {
  let t: TestStore;
  let accountId: string;
  let webhookId: string;

  before(async () => {
    t = await createTestStore(engine);
    accountId = (await createAccount(t.store, { email: 'feed@example.com', dailyLimit: 10 })).account.id;
    webhookId = (await createWebhook(t.store, accountId, { url: 'http://127.0.0.1:9/x' })).webhook.id;
  });
  after(async () => { await t.cleanup(); });

  const event = (recipient: string): MessageEvent => ({ accountId, messageId: 'm1', deliveryId: null, recipient, type: 'delivered', at: Date.now() + 1000 });
  const outbox = async () => (await t.store.db.selectFrom('webhook_deliveries').select('payload').where('webhook_id', '=', webhookId).execute())
    .map((row) => JSON.parse(row.payload).recipient as string).sort();

  /**
   * Fans out until `done` holds. On PostgreSQL any transaction still open in
   * the cluster (another test's, autovacuum's) holds the feed back for a
   * moment; it never makes it skip anything.
   */
  /** One fan-out pass in a transaction of its own, as the queue writer runs it. */
  const fanOut = () => t.store.db.transaction().execute((tx) => fanOutEvents(tx, t.store.engine, 500, Date.now()));

  async function fanOutUntil(done: (recipients: string[]) => boolean): Promise<string[]> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      await fanOut();
      const recipients = await outbox();
      if (done(recipients) || Date.now() > deadline) return recipients;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  test('each event is fanned out once, and a further pass finds nothing new', async () => {
    await recordEvents(t.store.db, [event('a@example.com'), event('b@example.com')]);
    assert.deepEqual(await fanOutUntil((r) => r.length >= 2), ['a@example.com', 'b@example.com']);
    assert.equal(await fanOut(), 0);
    assert.deepEqual(await outbox(), ['a@example.com', 'b@example.com']);
  });

  test('an event whose transaction commits late is not skipped', { skip: engine === 'sqlite' ? 'SQLite commits one writer at a time, so ids appear in order' : false }, async () => {
    let commit!: () => void;
    const gate = new Promise<void>((resolve) => { commit = resolve; });
    let inserted!: () => void;
    const insertedSignal = new Promise<void>((resolve) => { inserted = resolve; });
    // Takes its id first but commits last: a plain "id > cursor" feed would step past it for good.
    const slow = t.store.db.transaction().execute(async (tx) => {
      await recordEvents(tx, [event('slow@example.com')]);
      inserted();
      await gate;
    });
    await insertedSignal;
    await recordEvents(t.store.db, [event('fast@example.com')]);
    await fanOut();
    commit();
    await slow;
    const recipients = await fanOutUntil((r) => r.includes('slow@example.com') && r.includes('fast@example.com'));
    assert.ok(recipients.includes('slow@example.com') && recipients.includes('fast@example.com'), recipients.join(','));
    assert.equal(recipients.filter((r) => r === 'fast@example.com').length, 1);
  });

  test('the backoff doubles up to its cap, with jitter', () => {
    const policy = { firstDelayMs: 1000, maxDelayMs: 8000, giveUpAfterMs: 86_400_000 };
    assert.deepEqual([1, 2, 3, 4, 5, 9].map((n) => backoffDelay(n, policy, () => 0.5)), [1000, 2000, 4000, 8000, 8000, 8000]);
    assert.equal(backoffDelay(1, policy, () => 0), 800);
    assert.equal(backoffDelay(1, policy, () => 1), 1200);
  });
});
