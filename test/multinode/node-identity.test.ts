/**
 * A node id belongs to one live process, and liveness is the store's node
 * lock, which dies with the process that holds it (see
 * src/store/node-lock.ts). Each "other process" here holds the lock through a
 * connection of its own, which is exactly what another process would do.
 * On PostgreSQL a held lock may also be a session a dead host left behind:
 * the registry then watches the heartbeat, refusing the id while it goes on
 * and ending the orphaned session once it has stopped.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { listNodes, registerNode } from '../../src/nodes/registry.ts';
import { takeNodeLock, type NodeLock } from '../../src/store/node-lock.ts';
import { createTestStore, describeEachStore, type TestStore } from '../support/stores.ts';
import { postgresSkipReason } from './cluster.ts';

const BEAT_MS = 200;

async function recordNode(db: TestStore, id: string, where: { hostname: string; pid: number }): Promise<void> {
  const now = Date.now();
  await db.store.db.insertInto('nodes').values({
    id, ...where, roles: 'delivery', listeners: '[]', started_at: now, heartbeat_at: now, heartbeat_ms: BEAT_MS,
  }).execute();
}

function beat(db: TestStore, id: string): () => void {
  const timer = setInterval(() => {
    void db.store.db.updateTable('nodes').set({ heartbeat_at: Date.now() }).where('id', '=', id).execute();
  }, BEAT_MS / 2);
  return () => clearInterval(timer);
}

describeEachStore('node identity on one host', (engine) => {
  let db: TestStore;
  const held: NodeLock[] = [];
  before(async () => { db = await createTestStore(engine); });
  afterEach(async () => { for (const lock of held.splice(0)) await lock.release(); });
  after(async () => { await db?.cleanup(); });

  test('an id whose recorded process is gone is taken at once, even when its pid now belongs to a live process', async () => {
    // pid 1 is always alive: the old check mistook it for the previous life still running.
    await recordNode(db, 'reborn', { hostname: hostname(), pid: 1 });
    const started = Date.now();
    const registration = await registerNode(db.store, { id: 'reborn', roles: ['delivery'], heartbeatMs: 1000 }, { onError: () => {} });
    try {
      assert.ok(Date.now() - started < 2000, `taken without waiting (${Date.now() - started} ms)`);
      const [node] = (await listNodes(db.store)).filter((n) => n.id === 'reborn');
      assert.equal(node.pid, process.pid);
    } finally {
      await registration.stop();
    }
  });

  test('an id a live process holds is refused with the process named', async () => {
    const lock = await takeNodeLock(db.store, 'busy', 1000);
    assert.ok(lock, 'the other process takes the lock');
    held.push(lock);
    await recordNode(db, 'busy', { hostname: hostname(), pid: 4242 });
    const stopBeating = beat(db, 'busy');
    try {
      await assert.rejects(registerNode(db.store, { id: 'busy', roles: ['delivery'], heartbeatMs: 1000 }, { onError: () => {} }),
        /node id busy is already used by process 4242 on this host; give each node its own MAILROOM_NODE_ID/);
    } finally {
      stopBeating();
    }
  });

  test('a stopped node gives its id back', async () => {
    const first = await registerNode(db.store, { id: 'handover', roles: ['delivery'], heartbeatMs: 1000 }, { onError: () => {} });
    await first.stop();
    const second = await registerNode(db.store, { id: 'handover', roles: ['delivery'], heartbeatMs: 1000 }, { onError: () => {} });
    await second.stop();
  });
});

describe('node identity across hosts', { skip: postgresSkipReason() }, () => {
  let db: TestStore;
  before(async () => { db = await createTestStore('postgres'); });
  after(async () => { await db?.cleanup(); });

  test('an id whose host died holding the lock is taken once that node has missed its beats', async () => {
    const lost: unknown[] = [];
    const orphan = await takeNodeLock(db.store, 'moved', 1000, { onLost: (error) => lost.push(error) });
    assert.ok(orphan);
    await recordNode(db, 'moved', { hostname: 'another-host.example', pid: 1 });
    const waits: string[] = [];
    const started = Date.now();
    const registration = await registerNode(db.store, { id: 'moved', roles: ['delivery'], heartbeatMs: 1000 }, { onError: () => {}, onWait: (m) => waits.push(m) });
    try {
      assert.ok(Date.now() - started >= 2 * BEAT_MS, 'it waited for the old node to go stale');
      assert.match(waits.join('\n'), /node id moved is held by process 1 on another-host\.example; waiting/);
      assert.match(waits.join('\n'), /ended the database session its dead node left behind on another-host\.example/);
      assert.equal(lost.length, 1, 'the orphaned session was ended');
      await registration.announce([{ name: 'smtp', port: 2525 }]);
      const [node] = (await listNodes(db.store)).filter((n) => n.id === 'moved');
      assert.deepEqual([node.alive, node.heartbeatMs, node.listeners], [true, 1000, [{ name: 'smtp', port: 2525 }]]);
    } finally {
      await registration.stop();
      await orphan.release();
    }
  });

  test('an id another host still heart-beats under is refused', async () => {
    const lock = await takeNodeLock(db.store, 'taken', 1000);
    assert.ok(lock);
    await recordNode(db, 'taken', { hostname: 'another-host.example', pid: 1 });
    const stopBeating = beat(db, 'taken');
    try {
      await assert.rejects(registerNode(db.store, { id: 'taken', roles: ['delivery'], heartbeatMs: 1000 }, { onError: () => {} }),
        /node id taken is in use on another-host\.example \(it is still heart-beating\)/);
    } finally {
      stopBeating();
      await lock.release();
    }
  });
});
