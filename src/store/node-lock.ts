/**
 * The liveness signal behind a node id: a lock that the operating system or
 * the database lets go of when the process holding it dies, however it dies.
 * A pid cannot be that signal: a SIGKILLed process stays a zombie until it is
 * reaped (its pid still answers kill(pid, 0)), and after a reboot or in a
 * container its pid soon belongs to some other process.
 *
 * - PostgreSQL: a session advisory lock, held on a connection of its own
 *   (never a pooled one, which could be closed or shared). The server drops
 *   it when the session ends, and a session ends when its client's socket
 *   closes, which the kernel does as the process dies. For a host that lost
 *   power nothing closes the socket, so the session asks the server for TCP
 *   keepalives, and the registry can end a session whose node stopped beating.
 * - SQLite: an exclusive transaction on a small lock database next to the
 *   store's file. SQLite locks with fcntl, and the kernel releases fcntl locks
 *   when the process's files close, before it is even a zombie. The lock sits
 *   beside the database file rather than in MAILROOM_DATA_DIR because whoever
 *   shares the database is who must see it. (fcntl locks are unreliable on
 *   network file systems; so is SQLite itself there.)
 *
 * Both are keyed by store, so two test schemas (or two SQLite files) can use
 * the same node id independently.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import type { Store } from './database.ts';

export interface NodeLock {
  /** The PostgreSQL backend pid holding the lock; null on SQLite. */
  readonly sessionPid: number | null;
  release(): Promise<void>;
}

export interface NodeLockHooks {
  /** The lock's connection broke (PostgreSQL only): the id is no longer held. */
  onLost?(error: unknown): void;
}

/** Advisory lock class for node ids; any constant shared by every node will do. */
const NODE_LOCK_CLASS = 7_243_118;

/**
 * Takes the lock for `id`, waiting up to `waitMs` for a holder that is on
 * its way out (a killed process's database session ends a moment later).
 * Null when a holder keeps it.
 */
export async function takeNodeLock(store: Store, id: string, waitMs: number, hooks: NodeLockHooks = {}): Promise<NodeLock | null> {
  return store.engine === 'postgres' ? takeAdvisoryLock(store.url, id, waitMs, hooks) : takeFileLock(store.url, id);
}

/**
 * Ends the database session holding the node id's lock (PostgreSQL): used
 * only for a holder whose node has stopped heart-beating, i.e. a session
 * left behind by a host that died without closing it. False when none.
 */
export async function endOrphanedHolder(store: Store, id: string): Promise<boolean> {
  if (store.engine !== 'postgres') return false;
  const client = new pg.Client({ connectionString: store.url });
  await client.connect();
  try {
    const result = await client.query<{ ended: boolean }>(
      `select pg_terminate_backend(pid) as ended from pg_locks
        where locktype = 'advisory' and granted and classid = $1 and objid = $2 and objsubid = 2
          and database = (select oid from pg_database where datname = current_database())`,
      [NODE_LOCK_CLASS, await lockKey(client, id)],
    );
    return result.rows.some((row) => row.ended);
  } finally {
    await client.end().catch(() => {});
  }
}

async function takeAdvisoryLock(url: string, id: string, waitMs: number, hooks: NodeLockHooks): Promise<NodeLock | null> {
  const client = new pg.Client({ connectionString: url, keepAlive: true });
  let released = false;
  // 'error' and 'end' both come when the session breaks; the holder hears of it once.
  const lost = (error: unknown) => {
    if (released) return;
    released = true;
    hooks.onLost?.(error);
  };
  client.on('error', lost);
  await client.connect();
  try {
    // So the server notices within ~30 s a client host that vanished without closing the socket.
    await client.query(`set tcp_keepalives_idle = 10; set tcp_keepalives_interval = 5; set tcp_keepalives_count = 3`);
    await client.query(`set lock_timeout = ${Math.max(1, Math.round(waitMs))}`);
    try {
      await client.query('select pg_advisory_lock($1, $2)', [NODE_LOCK_CLASS, await lockKey(client, id)]);
    } catch (error) {
      if ((error as { code?: string }).code === '55P03') {
        released = true;
        await client.end().catch(() => {});
        return null;
      }
      throw error;
    }
    await client.query('set lock_timeout = 0');
  } catch (error) {
    released = true;
    await client.end().catch(() => {});
    throw error;
  }
  client.on('end', () => lost(new Error('the node lock connection closed')));
  return {
    sessionPid: (client as unknown as { processID: number }).processID,
    async release() {
      released = true;
      // Closing the session releases the lock.
      await client.end().catch(() => {});
    },
  };
}

/** A positive 31-bit key from the schema and id, so pg_locks shows the same number we pass. */
async function lockKey(client: pg.Client, id: string): Promise<number> {
  const schema = (await client.query<{ schema: string }>('select current_schema() as schema')).rows[0].schema;
  return createHash('sha256').update(`${schema}\0${id}`).digest().readUInt32BE(0) & 0x7fff_ffff;
}

function takeFileLock(url: string, id: string): NodeLock | null {
  const file = `${url.slice('sqlite:'.length)}.node-${encodeURIComponent(id)}.lock`;
  // timeout 0: a held lock answers "busy" at once instead of waiting for it.
  const db = new DatabaseSync(resolve(file), { timeout: 0 });
  try {
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if ((error as { errcode?: number }).errcode === 5 /* SQLITE_BUSY */) return null;
    throw error;
  }
  return {
    sessionPid: null,
    async release() {
      db.close();
    },
  };
}
