/**
 * Each running node announces itself in the shared store and heart-beats,
 * so `mailroom nodes list` shows which nodes are alive and what they hold.
 * A node that misses STALE_AFTER_BEATS of its own beats (its interval is
 * stored with it) is dead to the others. The heartbeat is for operators;
 * whether an id is in use is the store's node lock, which dies with the
 * process. Nothing waits on either: a dead node's delivery leases expire on
 * their own (see queue/claim-deliveries.ts).
 */
import { hostname as osHostname } from 'node:os';
import type { Store } from '../store/database.ts';
import { endOrphanedHolder, takeNodeLock, type NodeLock } from '../store/node-lock.ts';
import { PENDING_STATUSES } from '../queue/delivery-status.ts';
import { STALE_AFTER_BEATS, heartbeatAlive } from '../store/node-heartbeat.ts';

export interface NodeAnnouncement {
  id: string;
  roles: readonly string[];
  heartbeatMs: number;
}

export interface NodeRegistration {
  /** Publishes the listeners once they are up (their ports are known only then). */
  announce(listeners: ReadonlyArray<{ name: string; port: number }>): Promise<void>;
  stop(): Promise<void>;
}

export interface RegistryHooks {
  /** A heartbeat could not be written. */
  onError(error: unknown): void;
  /** Start-up waits to see whether another host's node under this id is still alive. */
  onWait?(message: string): void;
}

/**
 * Takes the node id, refusing one a live process still uses: two processes
 * under one id would each treat the other's leases as their own (a starting
 * worker gives back the leases its id holds). So this runs before the
 * delivery worker starts. Liveness is the store's node lock
 * (store/node-lock.ts), which dies with its process; the row below is what
 * operators read.
 */
export async function registerNode(store: Store, node: NodeAnnouncement, hooks: RegistryHooks): Promise<NodeRegistration> {
  let lock: NodeLock | null = null;
  const onLost = (error: unknown) => {
    lock = null;
    hooks.onError(new Error(`node id ${node.id}: lost the lock that marks it in use (${(error as Error).message ?? error}); retaking it at the next heartbeat`));
  };
  lock = await claimId(store, node.id, node.heartbeatMs, hooks, onLost);
  const now = Date.now();
  const row = {
    id: node.id, hostname: osHostname(), roles: node.roles.join(','), listeners: '[]', pid: process.pid,
    started_at: now, heartbeat_at: now, heartbeat_ms: node.heartbeatMs,
  };
  await store.db.insertInto('nodes').values(row)
    .onConflict((oc) => oc.column('id').doUpdateSet({
      hostname: row.hostname, roles: row.roles, listeners: row.listeners, pid: row.pid, started_at: now, heartbeat_at: now, heartbeat_ms: row.heartbeat_ms,
    }))
    .execute();
  let stopped = false;
  const retake = async () => {
    const taken = await takeNodeLock(store, node.id, 1, { onLost });
    if (stopped) await taken?.release();
    else if (taken) lock = taken;
    else hooks.onError(new Error(`node id ${node.id} was taken by another process while this one was cut off from the database; give each node its own MAILROOM_NODE_ID`));
  };
  const timer = setInterval(() => {
    if (!lock) retake().catch(hooks.onError);
    store.db.updateTable('nodes').set({ heartbeat_at: Date.now() }).where('id', '=', node.id).execute().catch(hooks.onError);
  }, node.heartbeatMs);
  timer.unref();
  return {
    async announce(listeners) {
      await store.db.updateTable('nodes').set({ listeners: JSON.stringify(listeners) }).where('id', '=', node.id).execute();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await store.db.deleteFrom('nodes').where('id', '=', node.id).execute().catch(hooks.onError);
      await (lock as NodeLock | null)?.release();
    },
  };
}

/**
 * A killed process's database session ends a moment after the process (the
 * server reads the closed socket); this long, a held lock may still be that.
 */
const DEAD_SESSION_GRACE_MS = 3000;

async function claimId(store: Store, id: string, heartbeatMs: number, hooks: RegistryHooks, onLost: (error: unknown) => void): Promise<NodeLock> {
  const lock = await takeNodeLock(store, id, DEAD_SESSION_GRACE_MS, { onLost });
  if (lock) return lock;
  const read = () => store.db.selectFrom('nodes').selectAll().where('id', '=', id).executeTakeFirst();
  const first = await read();
  // On SQLite the operating system answered: the holder is a live process.
  if (store.engine === 'sqlite') throw inUse(id, first);
  // On PostgreSQL a held lock can also be a session whose host died without closing
  // it (power loss): only the heartbeat tells. A node that beats again is alive; one
  // that has missed its beats left that session behind, which we end.
  hooks.onWait?.(`node id ${id} is held by ${first ? `process ${first.pid} on ${first.hostname}` : 'another process'}; waiting to see whether it is still alive`);
  const beatMs = first?.heartbeat_ms ?? heartbeatMs;
  const giveUpAt = Date.now() + (STALE_AFTER_BEATS + 1) * beatMs;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(beatMs, 1000)));
    const taken = await takeNodeLock(store, id, 1, { onLost });
    if (taken) return taken;
    const now = await read();
    if (now && first && now.heartbeat_at > first.heartbeat_at) throw inUse(id, now);
    if (now && !heartbeatAlive(now, Date.now())) {
      if (await endOrphanedHolder(store, id)) hooks.onWait?.(`node id ${id}: ended the database session its dead node left behind on ${now.hostname}`);
      continue;
    }
    if (Date.now() > giveUpAt) throw inUse(id, now);
  }
}

function inUse(id: string, row: { hostname: string; pid: number } | undefined): Error {
  if (!row) return new Error(`node id ${id} is already used by another process; give each node its own MAILROOM_NODE_ID`);
  if (row.hostname === osHostname()) return new Error(`node id ${id} is already used by process ${row.pid} on this host; give each node its own MAILROOM_NODE_ID`);
  return new Error(`node id ${id} is in use on ${row.hostname} (it is still heart-beating); give each node its own MAILROOM_NODE_ID`);
}

export interface NodeStatus {
  id: string;
  hostname: string;
  pid: number;
  roles: string[];
  listeners: Array<{ name: string; port: number }>;
  startedAt: number;
  heartbeatAt: number;
  heartbeatMs: number;
  alive: boolean;
  /** Deliveries this node holds a live lease on. */
  leasedDeliveries: number;
  /** Webhook sends this node's dispatcher holds a live lease on. */
  leasedWebhooks: number;
}

export async function listNodes(store: Store, now = Date.now()): Promise<NodeStatus[]> {
  const rows = await store.db.selectFrom('nodes').selectAll().orderBy('id').execute();
  const leases = await store.db.selectFrom('deliveries').select(['lease_owner', (eb) => eb.fn.countAll<number>().as('held')])
    .where('lease_owner', 'is not', null).where('status', 'in', PENDING_STATUSES).where('next_attempt_at', '>', now)
    .groupBy('lease_owner').execute();
  const held = new Map(leases.map((l) => [l.lease_owner, Number(l.held)]));
  const webhookLeases = await store.db.selectFrom('webhook_deliveries').select(['lease_owner', (eb) => eb.fn.countAll<number>().as('held')])
    .where('lease_owner', 'is not', null).where('status', '=', 'pending').where('next_attempt_at', '>', now)
    .groupBy('lease_owner').execute();
  const heldWebhooks = new Map<string, number>();
  for (const lease of webhookLeases) {
    // A dispatcher's lease owner is "<node id>/<dispatcher>".
    const node = String(lease.lease_owner).replace(/\/[^/]*$/, '');
    heldWebhooks.set(node, (heldWebhooks.get(node) ?? 0) + Number(lease.held));
  }
  return rows.map((row) => ({
    id: row.id, hostname: row.hostname, pid: row.pid, roles: row.roles.split(','), listeners: JSON.parse(row.listeners),
    startedAt: row.started_at, heartbeatAt: row.heartbeat_at, heartbeatMs: row.heartbeat_ms, alive: heartbeatAlive(row, now),
    leasedDeliveries: held.get(row.id) ?? 0, leasedWebhooks: heldWebhooks.get(row.id) ?? 0,
  }));
}
