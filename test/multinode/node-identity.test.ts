/**
 * A node id belongs to one live process. On this host the registry can ask
 * whether the recorded process still runs; for a node recorded on another
 * host it can only watch the heartbeat: it waits for the beats to stop (a
 * node that died, restarted elsewhere) or refuses the id (they go on).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { listNodes, registerNode } from '../../src/nodes/registry.ts';
import { createTestStore, type TestStore } from '../support/stores.ts';
import { postgresSkipReason } from './cluster.ts';

const BEAT_MS = 200;

describe('node identity across hosts', { skip: postgresSkipReason() }, () => {
  let db: TestStore;
  before(async () => { db = await createTestStore('postgres'); });
  after(async () => { await db?.cleanup(); });

  async function recordElsewhere(id: string): Promise<void> {
    const now = Date.now();
    await db.store.db.insertInto('nodes').values({
      id, hostname: 'another-host.example', roles: 'delivery', listeners: '[]', pid: 1, started_at: now, heartbeat_at: now, heartbeat_ms: BEAT_MS,
    }).execute();
  }

  test('an id last seen on another host is taken once that node has missed its beats', async () => {
    await recordElsewhere('moved');
    const waits: string[] = [];
    const started = Date.now();
    const registration = await registerNode(db.store, { id: 'moved', roles: ['delivery'], heartbeatMs: 1000 }, { onError: () => {}, onWait: (m) => waits.push(m) });
    try {
      assert.ok(Date.now() - started >= 2 * BEAT_MS, 'it waited for the old node to go stale');
      assert.match(waits.join('\n'), /node id moved was alive on another-host\.example/);
      await registration.announce([{ name: 'smtp', port: 2525 }]);
      const [node] = (await listNodes(db.store)).filter((n) => n.id === 'moved');
      assert.deepEqual([node.alive, node.heartbeatMs, node.listeners], [true, 1000, [{ name: 'smtp', port: 2525 }]]);
    } finally {
      await registration.stop();
    }
  });

  test('an id another host still heart-beats under is refused', async () => {
    await recordElsewhere('taken');
    const beating = setInterval(() => {
      void db.store.db.updateTable('nodes').set({ heartbeat_at: Date.now() }).where('id', '=', 'taken').execute();
    }, BEAT_MS / 2);
    try {
      await assert.rejects(registerNode(db.store, { id: 'taken', roles: ['delivery'], heartbeatMs: 1000 }, { onError: () => {} }),
        /node id taken is in use on another-host\.example \(it is still heart-beating\)/);
    } finally {
      clearInterval(beating);
    }
  });
});
