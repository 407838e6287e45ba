/**
 * The login throttle's policy on a fake clock, kept in the store and written
 * through the queue writer as the service does (SQLite: its writer thread):
 * an IP locks after its failures, an IP locks for one account sooner, and an
 * account attacked from many IPs never locks — its failures are slowed down
 * and its owner is told once per window. Two nodes count together.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuthThrottle, type AuthThrottlePolicy } from '../../src/accounts/auth-throttle.ts';
import { inThreadWriter, startWriterThread, type QueueWriter } from '../../src/write-operations.ts';
import { createAccount } from '../../src/accounts/accounts.ts';
import { createTestStore, describeEachStore, type TestStore } from '../support/stores.ts';

const WINDOW = 10 * 60_000;
const POLICY: AuthThrottlePolicy = { maxFailuresPerIp: 10, maxFailuresPerIpAccount: 5, accountAlertAfter: 10, windowMs: WINDOW, maxDelayMs: 5000 };

describeEachStore('login throttle', (engine) => {
  let t: TestStore;
  let writer: QueueWriter;
  before(async () => {
    t = await createTestStore(engine);
    writer = engine === 'sqlite' ? await startWriterThread(t.url) : inThreadWriter(t.store);
  });
  after(async () => {
    await writer?.close();
    await t?.cleanup();
  });

  function throttleAt(start: number) {
    const clock = { now: start };
    return { clock, throttle: new AuthThrottle(t.store, writer, POLICY, () => clock.now) };
  }

  it('locks an IP on its 10th failure within the window, for every account, for the length of the window', async () => {
    const { clock, throttle } = throttleAt(1_000_000);
    for (let i = 1; i <= 9; i++) {
      assert.equal((await throttle.recordFailure('smtp', '192.0.2.1', `user${i}@b.example`)).lockedUntil, null, `failure ${i} does not lock`);
      clock.now += 1000;
    }
    const { lockedUntil: until } = await throttle.recordFailure('smtp', '192.0.2.1', 'user10@b.example');
    assert.equal(until, clock.now + WINDOW);
    assert.equal(await throttle.lockedUntil('smtp', '192.0.2.1', 'anyone@b.example'), until);
    assert.equal(await throttle.lockedUntil('smtp', '192.0.2.2', 'user1@b.example'), null);
    assert.equal(await throttle.lockedUntil('dashboard', '192.0.2.1', 'user1@b.example'), null, 'dashboard sign-ins count apart');
    clock.now = until! - 1;
    assert.equal(await throttle.lockedUntil('smtp', '192.0.2.1', 'anyone@b.example'), until);
    clock.now = until!;
    assert.equal(await throttle.lockedUntil('smtp', '192.0.2.1', 'anyone@b.example'), null, 'free again once the window has passed');
    assert.equal((await throttle.recordFailure('smtp', '192.0.2.1', 'user1@b.example')).lockedUntil, null, 'and counting starts afresh');
  });

  it('locks one IP for one account after 5 failures; that IP may still log in to other accounts', async () => {
    const { clock, throttle } = throttleAt(50_000_000);
    for (let i = 1; i <= 4; i++) assert.equal((await throttle.recordFailure('smtp', '192.0.2.50', 'target@b.example')).lockedUntil, null);
    const { lockedUntil } = await throttle.recordFailure('smtp', '192.0.2.50', 'target@b.example');
    assert.equal(lockedUntil, clock.now + WINDOW);
    assert.equal(await throttle.lockedUntil('smtp', '192.0.2.50', 'target@b.example'), lockedUntil);
    assert.equal(await throttle.lockedUntil('smtp', '192.0.2.50', 'other@b.example'), null);
    assert.equal(await throttle.lockedUntil('smtp', '192.0.2.51', 'target@b.example'), null);
  });

  it('never locks an account failed against from many IPs: later failures wait longer, and the owner is told once', async () => {
    const { clock, throttle } = throttleAt(200_000_000);
    const { account } = await createAccount(t.store, { email: 'victim@b.example', dailyLimit: 10 });
    const outcomes = [];
    for (let i = 0; i < 16; i++) {
      outcomes.push(await throttle.recordFailure('smtp', `198.51.100.${i}`, 'victim@b.example'));
      clock.now += 1000;
    }
    assert.deepEqual(outcomes.map((o) => o.lockedUntil), Array(16).fill(null), 'no failure locks anything');
    assert.deepEqual(outcomes.map((o) => o.delayMs), [0, 0, 0, 0, 0, 0, 0, 0, 0, 250, 500, 1000, 2000, 4000, 5000, 5000]);
    assert.deepEqual(outcomes.map((o) => o.alerted), outcomes.map((_, i) => i === 9));
    assert.equal(await throttle.lockedUntil('smtp', '198.51.100.200', 'victim@b.example'), null, 'a fresh IP is never refused');
    assert.equal(await throttle.lockedUntil('smtp', '198.51.100.3', 'victim@b.example'), null, 'nor one that failed once');
    const events = await t.store.db.selectFrom('message_events').selectAll().where('type', '=', 'auth.failures').execute();
    assert.equal(events.length, 1);
    assert.equal(events[0].account_id, account.id);
    assert.match(events[0].reply ?? '', /10 or more failed SMTP logins for victim@b\.example within 10 minutes \(the latest from 198\.51\.100\.9\)/);

    clock.now += WINDOW;
    for (let i = 0; i < 10; i++) await throttle.recordFailure('smtp', `203.0.113.${i}`, 'victim@b.example');
    assert.equal((await t.store.db.selectFrom('message_events').select('id').where('type', '=', 'auth.failures').execute()).length, 2, 'told again in the next window');
  });

  it('forgets failures older than the window: slow guessing never locks', async () => {
    const { clock, throttle } = throttleAt(100_000_000);
    for (let i = 0; i < 30; i++) {
      assert.equal((await throttle.recordFailure('smtp', '192.0.2.99', `slow${i}@b.example`)).lockedUntil, null);
      clock.now += WINDOW / 8; // at most 8 failures in any 10 minutes
    }
  });

  it('counts the failures every node sees: guesses spread over two nodes lock as fast', async () => {
    const clock = { now: 300_000_000 };
    const nodeA = new AuthThrottle(t.store, writer, POLICY, () => clock.now);
    const nodeB = new AuthThrottle(t.store, writer, POLICY, () => clock.now);
    for (let i = 0; i < 9; i++) assert.equal((await (i % 2 ? nodeA : nodeB).recordFailure('smtp', '203.0.113.9', `n${i}@b.example`)).lockedUntil, null);
    const { lockedUntil } = await nodeA.recordFailure('smtp', '203.0.113.9', 'n9@b.example');
    assert.ok(lockedUntil);
    assert.equal(await nodeB.lockedUntil('smtp', '203.0.113.9', 'n0@b.example'), lockedUntil, 'the other node refuses the locked IP too');
  });
});
