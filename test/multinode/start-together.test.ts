/**
 * Several nodes started at the same moment on a fresh PostgreSQL schema:
 * each runs the migrations at start (Kysely's migrator holds a PostgreSQL
 * advisory lock, so one migrates and the others find the work done), each
 * bootstraps what a first start creates, and all of them must come up.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openStore, type Store } from '../../src/store/database.ts';
import { migrations } from '../../src/store/migrations/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/stores.ts';
import { forgetNode, mailroomCli, postgresSkipReason, startNode, type MailroomNode } from './cluster.ts';

describe('nodes starting together on a fresh PostgreSQL schema', { skip: postgresSkipReason() }, () => {
  const databases: TestDatabase[] = [];
  const nodes: MailroomNode[] = [];
  after(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    for (const node of nodes) forgetNode(node);
    for (const database of databases) await database.drop();
  });

  async function freshDatabase(): Promise<TestDatabase> {
    const database = await createTestDatabase('postgres');
    databases.push(database);
    return database;
  }

  test('eight stores opened at once all migrate, each migration applied once', async () => {
    const database = await freshDatabase();
    const stores = await Promise.all(Array.from({ length: 8 }, () => openStore(database.url)));
    try {
      assert.deepEqual(await appliedMigrations(stores[0]), Object.keys(migrations('postgres')));
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  test('three processes started at once all migrate and run, with ids of their own', async () => {
    const database = await freshDatabase();
    // No MAILROOM_NODE_ID: each derives a stable id from its host name, data directory, ports and roles.
    const started = await Promise.allSettled([1, 2, 3].map((i) => startNode({ name: `together-${i}`, nodeId: null, roles: 'smtp,http,delivery', databaseUrl: database.url })));
    nodes.push(...started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : [])));
    assert.deepEqual(started.filter((result) => result.status === 'rejected').map((result) => String((result as PromiseRejectedResult).reason)), []);
    const ids = nodes.map((node) => node.id);
    assert.equal(new Set(ids).size, 3, `distinct node ids: ${ids.join(', ')}`);

    for (const node of nodes) {
      const health = await (await fetch(`http://127.0.0.1:${node.port('http')}/healthz`)).json() as { status: string; node: string; roles: string[] };
      assert.deepEqual([health.status, health.node, health.roles], ['ok', node.id, ['smtp', 'http', 'delivery']]);
    }
    const listed = await mailroomCli(['nodes', 'list', '--json'], database.url);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual((JSON.parse(listed.stdout) as Array<{ id: string; alive: boolean }>).map((n) => [n.id, n.alive]), [...ids].sort().map((id) => [id, true]));

    const store = await openStore(database.url);
    try {
      assert.deepEqual(await appliedMigrations(store), Object.keys(migrations('postgres')));
      const admins = await store.db.selectFrom('accounts').select('email').where('is_admin', '=', 1).execute();
      assert.equal(admins.length, 1, 'one first-start admin login, whichever node created it');
    } finally {
      await store.close();
    }
  });

  test('a second process under a live node\'s id is refused before it touches a lease', async () => {
    const database = await freshDatabase();
    const first = await startNode({ name: 'same-id-1', nodeId: 'same-id', roles: 'delivery', databaseUrl: database.url });
    nodes.push(first);
    const second = await startNode({ name: 'same-id-2', nodeId: 'same-id', roles: 'delivery', databaseUrl: database.url }).then(
      (node) => { nodes.push(node); return 'started'; },
      (error: Error) => error.message,
    );
    assert.match(second, /node id same-id is already used by process \d+ on this host/);
    assert.equal(first.pid > 0 && (await Promise.race([first.exited.then(() => 'exited'), new Promise((resolve) => setTimeout(() => resolve('running'), 500))])), 'running');
  });
});

async function appliedMigrations(store: Store): Promise<string[]> {
  const result = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(store.db);
  return result.rows.map((row) => row.name);
}
