/**
 * The login throttle on a fake clock, kept in the store: locks after 10 failures in 10
 * minutes, lets go when the window passes, and two nodes (two throttles on one store) count
 * together.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuthThrottle } from '../../src/smtp/auth-throttle.ts';
import { createTestStore, describeEachStore, type TestStore } from '../support/stores.ts';

const WINDOW = 10 * 60_000;

describeEachStore('login throttle', (engine) => {
  let t: TestStore;
  before(async () => { t = await createTestStore(engine); });
  after(async () => { await t?.cleanup(); });

  function throttleAt(start: number) {
    const clock = { now: start };
    return { clock, throttle: new AuthThrottle(t.store, { maxFailures: 10, windowMs: WINDOW, now: () => clock.now }) };
  }

  it('locks a key on its 10th failure within the window, for the length of the window', async () => {
    const { clock, throttle } = throttleAt(1_000_000);
    for (let i = 1; i <= 9; i++) {
      assert.equal(await throttle.recordFailure(['ip:192.0.2.1']), null, `failure ${i} does not lock`);
      clock.now += 1000;
    }
    const until = await throttle.recordFailure(['ip:192.0.2.1']);
    assert.equal(until, clock.now + WINDOW);
    assert.equal(await throttle.lockedUntil(['ip:192.0.2.1', 'account:a@b.example']), until);
    assert.equal(await throttle.lockedUntil(['ip:192.0.2.2']), null);
    clock.now = until! - 1;
    assert.equal(await throttle.lockedUntil(['ip:192.0.2.1']), until);
    clock.now = until!;
    assert.equal(await throttle.lockedUntil(['ip:192.0.2.1']), null, 'free again once the window has passed');
    assert.equal(await throttle.recordFailure(['ip:192.0.2.1']), null, 'and counting starts afresh');
  });

  it('forgets failures older than the window: slow guessing never locks', async () => {
    const { clock, throttle } = throttleAt(100_000_000);
    for (let i = 0; i < 30; i++) {
      assert.equal(await throttle.recordFailure(['account:slow@b.example']), null);
      clock.now += WINDOW / 8; // at most 8 failures in any 10 minutes
    }
  });

  it('counts each key on its own: an IP and an account lock independently', async () => {
    const { throttle } = throttleAt(200_000_000);
    for (let i = 0; i < 9; i++) await throttle.recordFailure([`ip:198.51.100.${i}`, 'account:victim@b.example']);
    assert.ok(await throttle.recordFailure(['ip:198.51.100.200', 'account:victim@b.example']));
    assert.ok(await throttle.lockedUntil(['ip:198.51.100.77', 'account:victim@b.example']));
    assert.equal(await throttle.lockedUntil(['ip:198.51.100.1', 'account:other@b.example']), null);
  });

  it('counts the failures every node sees: guesses spread over two nodes lock as fast', async () => {
    const clock = { now: 300_000_000 };
    const nodeA = new AuthThrottle(t.store, { maxFailures: 10, windowMs: WINDOW, now: () => clock.now });
    const nodeB = new AuthThrottle(t.store, { maxFailures: 10, windowMs: WINDOW, now: () => clock.now });
    for (let i = 0; i < 9; i++) assert.equal(await (i % 2 ? nodeA : nodeB).recordFailure(['ip:203.0.113.9']), null);
    const until = await nodeA.recordFailure(['ip:203.0.113.9']);
    assert.ok(until);
    assert.equal(await nodeB.lockedUntil(['ip:203.0.113.9']), until, 'the other node refuses the locked IP too');
  });
});
