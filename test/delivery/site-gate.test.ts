import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SiteGate } from '../../src/delivery/site-gate.ts';
import type { NodeLimits } from '../../src/queue/shaping.ts';

const open: NodeLimits = { concurrency: 100, rate: null, suspendedUntil: null };

test('without a rate, envelopes go at once, up to the concurrency; the next waits for a release', async () => {
  const gate = new SiteGate();
  const limits = () => ({ ...open, concurrency: 2 });
  const a = await gate.admit('s', limits, ['a']);
  const b = await gate.admit('s', limits, ['b']);
  assert.equal(a.kind, 'go');
  assert.equal(b.kind, 'go');
  let third = false;
  const c = gate.admit('s', limits, ['c']).then((admission) => { third = true; return admission; });
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(third, false, 'a third envelope waits while two are in flight');
  assert.equal(gate.active('s'), 2);
  if (a.kind === 'go') a.release();
  const admitted = await c;
  assert.equal(admitted.kind, 'go');
  assert.equal(gate.active('s'), 2);
  assert.equal(gate.active('other'), 0, 'sites do not share slots');
});

test('a rate spaces envelopes; beyond the longest wait, they are held back until a reserved slot', async () => {
  let clock = 1_000_000;
  const gate = new SiteGate({ maxWaitMs: 2000, now: () => clock });
  const limits = () => ({ ...open, rate: 1 });
  const first = await gate.admit('s', limits, ['1']);
  assert.equal(first.kind, 'go');
  // The second and third would wait 1 s and 2 s: in memory. Started without awaiting (they sleep in real time).
  const pending = [gate.admit('s', limits, ['2']), gate.admit('s', limits, ['3'])];
  const fourth = await gate.admit('s', limits, ['4']);
  assert.deepEqual(fourth, { kind: 'hold', until: clock + 3000, why: 'rate' });
  const fifth = await gate.admit('s', limits, ['5']);
  assert.deepEqual(fifth, { kind: 'hold', until: clock + 4000, why: 'rate' });
  clock += 2500;
  // Coming back, the fourth takes its reserved slot (half a second away), ahead of newcomers, without queueing again.
  const back = gate.admit('s', limits, ['4']);
  const newcomer = await gate.admit('s', limits, ['6']);
  assert.deepEqual(newcomer, { kind: 'hold', until: clock + 2500, why: 'rate' });
  assert.equal((await back).kind, 'go');
  for (const admission of [first, ...(await Promise.all(pending))]) if (admission.kind === 'go') admission.release();
});

test('a suspended site holds everything until the suspension ends', async () => {
  const gate = new SiteGate();
  const until = Date.now() + 60_000;
  const admission = await gate.admit('s', () => ({ ...open, suspendedUntil: until }), ['x']);
  assert.equal(admission.kind, 'hold');
  if (admission.kind === 'hold') {
    assert.equal(admission.why, 'suspended');
    assert.ok(admission.until >= until && admission.until < until + 1000);
  }
});

test('deliveries turned away by a throttling reply get the next free slots, never sooner than the minimum delay', () => {
  const clock = 5_000;
  const gate = new SiteGate({ now: () => clock });
  const limits = { ...open, rate: 2 };
  assert.equal(gate.reserve('s', limits, ['a'], 1000), 6000);
  assert.equal(gate.reserve('s', limits, ['b'], 1000), 6500);
  assert.equal(gate.reserve('t', open, ['c'], 1000), 6000, 'no rate: just the minimum delay');
});

test('beyond the horizon, deliveries are held a while without a slot, so a faster rate later is not stuck with old reservations', async () => {
  const clock = 0;
  const gate = new SiteGate({ maxWaitMs: 0, horizonMs: 3000, now: () => clock });
  const limits = () => ({ ...open, rate: 1 });
  const held = [];
  for (let i = 0; i < 6; i++) held.push(await gate.admit('s', limits, [`d${i}`]));
  // Slots at 0 (goes), 1 s, 2 s, 3 s are reserved; the next ones are beyond the horizon.
  assert.deepEqual(held.slice(1, 4).map((h) => h.kind === 'hold' && h.until), [1000, 2000, 3000]);
  for (const h of held.slice(4)) {
    assert.ok(h.kind === 'hold' && h.until >= 3000 && h.until <= 6000, JSON.stringify(h));
  }
});
