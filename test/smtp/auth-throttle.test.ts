/** The login throttle on a fake clock: locks after 10 failures in 10 minutes, and lets go when the window passes. */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { AuthThrottle } from '../../src/smtp/auth-throttle.ts';

const WINDOW = 10 * 60_000;

function throttleAt(start = 1_000_000) {
  const clock = { now: start };
  return { clock, throttle: new AuthThrottle({ maxFailures: 10, windowMs: WINDOW, now: () => clock.now }) };
}

it('locks a key on its 10th failure within the window, for the length of the window', () => {
  const { clock, throttle } = throttleAt();
  for (let i = 1; i <= 9; i++) {
    assert.equal(throttle.recordFailure(['ip:192.0.2.1']), null, `failure ${i} does not lock`);
    clock.now += 1000;
  }
  const until = throttle.recordFailure(['ip:192.0.2.1']);
  assert.equal(until, clock.now + WINDOW);
  assert.equal(throttle.lockedUntil(['ip:192.0.2.1', 'account:a@b.example']), until);
  assert.equal(throttle.lockedUntil(['ip:192.0.2.2']), null);
  clock.now = until! - 1;
  assert.equal(throttle.lockedUntil(['ip:192.0.2.1']), until);
  clock.now = until!;
  assert.equal(throttle.lockedUntil(['ip:192.0.2.1']), null, 'free again once the window has passed');
  assert.equal(throttle.recordFailure(['ip:192.0.2.1']), null, 'and counting starts afresh');
});

it('forgets failures older than the window: slow guessing never locks', () => {
  const { clock, throttle } = throttleAt();
  for (let i = 0; i < 30; i++) {
    assert.equal(throttle.recordFailure(['account:a@b.example']), null);
    clock.now += WINDOW / 8; // at most 8 failures in any 10 minutes
  }
});

it('counts each key on its own: an IP and an account lock independently', () => {
  const { throttle } = throttleAt();
  for (let i = 0; i < 9; i++) throttle.recordFailure([`ip:192.0.2.${i}`, 'account:victim@b.example']);
  assert.ok(throttle.recordFailure(['ip:192.0.2.200', 'account:victim@b.example']));
  assert.ok(throttle.lockedUntil(['ip:192.0.2.77', 'account:victim@b.example']));
  assert.equal(throttle.lockedUntil(['ip:192.0.2.1', 'account:other@b.example']), null);
});
