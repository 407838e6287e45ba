/**
 * Each running node announces itself in the shared store and heart-beats,
 * so `mailroom nodes list` shows which nodes are alive and what they hold.
 * A node that stops beating is dead to the others after NODE_STALE_MS; its
 * delivery leases expire on their own (see store/claim-deliveries.ts).
 */
import { hostname as osHostname } from 'node:os';
import type { Store } from '../store/database.ts';

export const HEARTBEAT_MS = 10_000;
export const NODE_STALE_MS = 3 * HEARTBEAT_MS;

export interface NodeAnnouncement {
  id: string;
  roles: readonly string[];
  listeners: ReadonlyArray<{ name: string; port: number }>;
}

export interface NodeRegistration {
  stop(): Promise<void>;
}

export async function registerNode(store: Store, node: NodeAnnouncement, onError: (error: unknown) => void): Promise<NodeRegistration> {
  const now = Date.now();
  const existing = await store.db.selectFrom('nodes').selectAll().where('id', '=', node.id).executeTakeFirst();
  if (existing && existing.pid !== process.pid && now - existing.heartbeat_at < NODE_STALE_MS && existing.hostname === osHostname() && processIsAlive(existing.pid)) {
    // Two live processes under one id would each treat the other's leases as their own.
    throw new Error(`node id ${node.id} is already used by process ${existing.pid} on this host; give each node its own MAILROOM_NODE_ID`);
  }
  const row = {
    id: node.id, hostname: osHostname(), roles: node.roles.join(','), listeners: JSON.stringify(node.listeners), pid: process.pid,
    started_at: now, heartbeat_at: now,
  };
  await store.db.insertInto('nodes').values(row)
    .onConflict((oc) => oc.column('id').doUpdateSet({ hostname: row.hostname, roles: row.roles, listeners: row.listeners, pid: row.pid, started_at: now, heartbeat_at: now }))
    .execute();
  const timer = setInterval(() => {
    store.db.updateTable('nodes').set({ heartbeat_at: Date.now() }).where('id', '=', node.id).execute().catch(onError);
  }, HEARTBEAT_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await store.db.deleteFrom('nodes').where('id', '=', node.id).execute().catch(onError);
    },
  };
}

export interface NodeStatus {
  id: string;
  hostname: string;
  pid: number;
  roles: string[];
  listeners: Array<{ name: string; port: number }>;
  startedAt: number;
  heartbeatAt: number;
  alive: boolean;
  /** Deliveries this node holds a live lease on. */
  leasedDeliveries: number;
}

export async function listNodes(store: Store, now = Date.now()): Promise<NodeStatus[]> {
  const rows = await store.db.selectFrom('nodes').selectAll().orderBy('id').execute();
  const leases = await store.db.selectFrom('deliveries').select(['lease_owner', (eb) => eb.fn.countAll<number>().as('held')])
    .where('lease_owner', 'is not', null).where('status', 'in', ['queued', 'deferred']).where('next_attempt_at', '>', now)
    .groupBy('lease_owner').execute();
  const held = new Map(leases.map((l) => [l.lease_owner, Number(l.held)]));
  return rows.map((row) => ({
    id: row.id, hostname: row.hostname, pid: row.pid, roles: row.roles.split(','), listeners: JSON.parse(row.listeners),
    startedAt: row.started_at, heartbeatAt: row.heartbeat_at, alive: now - row.heartbeat_at < NODE_STALE_MS, leasedDeliveries: held.get(row.id) ?? 0,
  }));
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
