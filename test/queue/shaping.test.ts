import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DECREASE_COOLDOWN_MS, DECREASE_FACTOR, INCREASE_AFTER_MS, MIN_RATE, MIN_STEP, STEP_SHARE, decrease, freshShaping, increase, nodeLimits, suspend,
} from '../../src/queue/shaping.ts';

const round = (n: number) => Math.round(n * 100) / 100;

const reply = '421 4.7.28 unusual rate of unsolicited mail';
const facts = (now: number, observedRate: number) => ({ now, observedRate, defaultConcurrency: 20, reply, rule: 'gmail-rate-limit' });

test('a fresh site has the default connections and no rate limit', () => {
  assert.deepEqual(nodeLimits(freshShaping('google', 0), { nodes: 1, defaultConcurrency: 20, now: 0 }), { concurrency: 20, rate: null, suspendedUntil: null });
  assert.deepEqual(nodeLimits(undefined, { nodes: 3, defaultConcurrency: 20, now: 0 }), { concurrency: 20, rate: null, suspendedUntil: null });
});

test('the first throttling reply cuts the pace the cluster was actually sending at, and says why', () => {
  const after = decrease(freshShaping('google', 0), facts(1000, 40))!;
  assert.equal(after.rate, round(40 * DECREASE_FACTOR));
  assert.equal(after.concurrency, Math.floor(20 * DECREASE_FACTOR));
  assert.equal(after.reason, reply);
  assert.equal(after.reasonRule, 'gmail-rate-limit');
  assert.equal(after.lastChange, 'decreased');
});

test('replies within the cooldown of a decrease do not decrease again; later ones do', () => {
  const once = decrease(freshShaping('google', 0), facts(1000, 40))!;
  assert.equal(decrease(once, facts(1000 + DECREASE_COOLDOWN_MS - 1, 40)), null);
  const twice = decrease(once, facts(1000 + DECREASE_COOLDOWN_MS, once.rate!))!;
  assert.equal(twice.rate, round(once.rate! * DECREASE_FACTOR));
  assert.equal(twice.concurrency, Math.floor(once.concurrency! * DECREASE_FACTOR));
});

test('decreases stop at one connection and the minimum rate', () => {
  let state = freshShaping('google', 0);
  for (let i = 1; i <= 60; i++) state = decrease(state, facts(i * DECREASE_COOLDOWN_MS, 0))!;
  assert.equal(state.concurrency, 1);
  assert.equal(state.rate, MIN_RATE);
});

test('increases are additive: one connection and a fixed share of the decreased rate per step, back to the default', () => {
  const low = decrease(freshShaping('google', 0), facts(0, 100))!; // rate 70, concurrency 14
  assert.equal(low.growStep, round(Math.max(MIN_STEP, low.rate! * STEP_SHARE)));
  assert.equal(increase(low, { now: INCREASE_AFTER_MS - 1, defaultConcurrency: 20 }), null);
  let state = low;
  for (let i = 1; i <= 12; i++) state = increase(state, { now: i * INCREASE_AFTER_MS, defaultConcurrency: 20 })!;
  assert.equal(state.rate, round(low.rate! + 12 * low.growStep));
  assert.equal(state.concurrency, null, 'back at the default');
  assert.equal(state.reason, reply, 'the last decrease stays the reason shown');
});

test('nothing learnt, nothing to increase', () => {
  assert.equal(increase(freshShaping('x', 0), { now: 10_000, defaultConcurrency: 20 }), null);
});

test('a suspension stops the site until it ends, and decreases it even within the cooldown', () => {
  const once = decrease(freshShaping('yahoo', 0), facts(0, 40))!;
  const suspended = suspend(once, { ...facts(500, once.rate!), forMs: 60_000 });
  assert.equal(suspended.suspendedUntil, 60_500);
  assert.equal(suspended.rate, round(once.rate! * DECREASE_FACTOR));
  assert.equal(nodeLimits(suspended, { nodes: 1, defaultConcurrency: 20, now: 60_000 }).suspendedUntil, 60_500);
  assert.equal(nodeLimits(suspended, { nodes: 1, defaultConcurrency: 20, now: 60_500 }).suspendedUntil, null);
});

test('each node applies its share of the cluster limits; pins override what was learnt', () => {
  const state = { ...decrease(freshShaping('google', 0), facts(0, 40))!, concurrency: 5, rate: 20 };
  assert.deepEqual(nodeLimits(state, { nodes: 2, defaultConcurrency: 20, now: 0 }), { concurrency: 2, rate: 10, suspendedUntil: null });
  const pinned = { ...state, pinnedConcurrency: 1, pinnedRate: 3 };
  assert.deepEqual(nodeLimits(pinned, { nodes: 3, defaultConcurrency: 20, now: 0 }), { concurrency: 1, rate: 1, suspendedUntil: null });
});
