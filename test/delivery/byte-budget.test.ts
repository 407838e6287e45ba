/** The in-flight byte budget: many small messages at once, large ones in turn, an oversized one alone. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteBudget } from '../../src/delivery/byte-budget.ts';

const settled = async (promise: Promise<unknown>) => {
  let done = false;
  void promise.then(() => { done = true; });
  await new Promise((resolve) => setImmediate(resolve));
  return done;
};

test('takes what fits at once and makes the rest wait, in order', async () => {
  const budget = new ByteBudget(100);
  await budget.acquire(40);
  await budget.acquire(40);
  const big = budget.acquire(50);
  const small = budget.acquire(10);
  assert.equal(await settled(big), false, '40 + 40 + 50 is over 100');
  assert.equal(await settled(small), false, 'a small one does not overtake the large one waiting');
  budget.release(40);
  assert.equal(await settled(big), true);
  assert.equal(await settled(small), true);
  assert.equal(budget.held, 100);
});

test('a message larger than the whole budget goes alone, once nothing else is held', async () => {
  const budget = new ByteBudget(100);
  await budget.acquire(30);
  const huge = budget.acquire(500);
  assert.equal(await settled(huge), false);
  budget.release(30);
  assert.equal(await settled(huge), true);
  const next = budget.acquire(1);
  assert.equal(await settled(next), false, 'nothing joins it');
  budget.release(500);
  assert.equal(await settled(next), true);
});
