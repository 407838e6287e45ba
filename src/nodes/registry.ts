/**
 * Each running node announces itself in the shared store and heart-beats,
 * so `mailroom nodes list` shows which nodes are alive and what they hold.
 * A node that misses STALE_AFTER_BEATS of its own beats (its interval is
 * stored with it) is dead to the others. Liveness here is for operators and
 * for refusing a duplicate id; nothing waits on it: a dead node's delivery
 * leases expire on their own (see store/claim-deliveries.ts).
 */
import { hostname as osHostname } from 'node:os';
import type { Store } from '../store/database.ts';

export const STALE_AFTER_BEATS = 3;

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
 * delivery worker starts.
 */
export async function registerNode(store: Store, node: NodeAnnouncement, hooks: RegistryHooks): Promise<NodeRegistration> {
  await refuseLiveDuplicate(store, node.id, hooks);
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
  const timer = setInterval(() => {
    store.db.updateTable('nodes').set({ heartbeat_at: Date.now() }).where('id', '=', node.id).execute().catch(hooks.onError);
  }, node.heartbeatMs);
  timer.unref();
  return {
    async announce(listeners) {
      await store.db.updateTable('nodes').set({ listeners: JSON.stringify(listeners) }).where('id', '=', node.id).execute();
    },
    async stop() {
      clearInterval(timer);
      await store.db.deleteFrom('nodes').where('id', '=', node.id).execute().catch(hooks.onError);
    },
  };
}

async function refuseLiveDuplicate(store: Store, id: string, hooks: RegistryHooks): Promise<void> {
  const read = () => store.db.selectFrom('nodes').selectAll().where('id', '=', id).executeTakeFirst();
  const existing = await read();
  if (!existing || !isAlive(existing, Date.now())) return;
  if (existing.hostname === osHostname()) {
    if (existing.pid !== process.pid && processIsAlive(existing.pid)) throw new Error(`node id ${id} is already used by process ${existing.pid} on this host; give each node its own MAILROOM_NODE_ID`);
    return; // this node's previous life, killed: a restart
  }
  // On another host only the heartbeat tells: wait until it has missed its beats; one that beats again is alive.
  hooks.onWait?.(`node id ${id} was alive on ${existing.hostname} moments ago; waiting to see whether it still is`);
  const staleAt = existing.heartbeat_at + STALE_AFTER_BEATS * existing.heartbeat_ms;
  while (Date.now() < staleAt) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(existing.heartbeat_ms, staleAt - Date.now()) + 50));
    const now = await read();
    if (!now) return;
    if (now.heartbeat_at > existing.heartbeat_at) throw new Error(`node id ${id} is in use on ${now.hostname} (it is still heart-beating); give each node its own MAILROOM_NODE_ID`);
  }
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
    .where('lease_owner', 'is not', null).where('status', 'in', ['queued', 'deferred']).where('next_attempt_at', '>', now)
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
    startedAt: row.started_at, heartbeatAt: row.heartbeat_at, heartbeatMs: row.heartbeat_ms, alive: isAlive(row, now),
    leasedDeliveries: held.get(row.id) ?? 0, leasedWebhooks: heldWebhooks.get(row.id) ?? 0,
  }));
}

function isAlive(row: { heartbeat_at: number; heartbeat_ms: number }, now: number): boolean {
  return now - row.heartbeat_at < STALE_AFTER_BEATS * row.heartbeat_ms;
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
