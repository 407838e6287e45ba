import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectionPool } from '../../src/delivery/connection-pool.ts';

class FakeSession {
  usable = true;
  closed = false;
  readonly id: number;
  constructor(id: number) {
    this.id = id;
  }
  close() {
    this.closed = true;
    this.usable = false;
  }
}

function opener() {
  const opened: FakeSession[] = [];
  return { opened, open: async () => { const s = new FakeSession(opened.length + 1); opened.push(s); return s; } };
}

test('a released session is reused for the next envelope to the same destination', async () => {
  const pool = new ConnectionPool<FakeSession>({ idleMs: 1000 });
  const { opened, open } = opener();
  const first = await pool.acquire('192.0.2.1:25', open);
  assert.equal(first.reused, false);
  first.release(true);
  const second = await pool.acquire('192.0.2.1:25', open);
  assert.equal(second.reused, true);
  assert.equal(second.session, first.session);
  const other = await pool.acquire('192.0.2.2:25', open);
  assert.notEqual(other.session, first.session, 'another destination gets its own session');
  second.release(true);
  other.release(true);
  assert.equal(opened.length, 2);
  pool.close();
  assert.ok(opened.every((s) => s.closed), 'close() closes idle sessions');
});

test('idle sessions close after idleMs; broken or unreusable ones are never handed out', async () => {
  const pool = new ConnectionPool<FakeSession>({ idleMs: 30 });
  const { opened, open } = opener();
  (await pool.acquire('k', open)).release(true);
  await sleep(60);
  assert.equal(opened[0].closed, true);
  assert.equal(pool.openCount('k'), 0);

  (await pool.acquire('k', open)).release(false);
  assert.equal(opened[1].closed, true);

  const lease = await pool.acquire('k', open);
  lease.release(true);
  opened[2].usable = false; // the server hung up while it was idle
  const next = await pool.acquire('k', open);
  assert.equal(next.reused, false);
  assert.equal(next.session, opened[3]);
  next.release(false);
  pool.close();
});

test('at most maxPerDestination sessions; the next caller waits for one to come back', async () => {
  const pool = new ConnectionPool<FakeSession>({ maxPerDestination: 2, idleMs: 1000 });
  const { opened, open } = opener();
  const a = await pool.acquire('k', open);
  const b = await pool.acquire('k', open);
  let thirdGot: FakeSession | null = null;
  const third = pool.acquire('k', open).then((l) => { thirdGot = l.session; return l; });
  await sleep(20);
  assert.equal(thirdGot, null, 'third caller waits');
  assert.equal(opened.length, 2);
  a.release(true);
  const lease = await third;
  assert.equal(lease.session, a.session);
  assert.equal(lease.reused, true);

  // A slot freed by a closed session lets the waiter open a fresh one.
  const fourth = pool.acquire('k', open);
  b.release(false);
  const l4 = await fourth;
  assert.equal(l4.reused, false);
  assert.equal(pool.openCount('k'), 2);
  lease.release(true);
  l4.release(true);
  pool.close();
});

test('a failed open frees its slot', async () => {
  const pool = new ConnectionPool<FakeSession>({ maxPerDestination: 1 });
  await assert.rejects(pool.acquire('k', async () => { throw new Error('refused'); }), /refused/);
  assert.equal(pool.openCount('k'), 0);
  const { open } = opener();
  const lease = await pool.acquire('k', open);
  lease.release(false);
  pool.close();
});

test('sessions retire after maxUsesPerSession envelopes', async () => {
  const pool = new ConnectionPool<FakeSession>({ maxUsesPerSession: 2, idleMs: 1000 });
  const { opened, open } = opener();
  (await pool.acquire('k', open)).release(true);
  (await pool.acquire('k', open)).release(true);
  assert.equal(opened[0].closed, true);
  pool.close();
});
