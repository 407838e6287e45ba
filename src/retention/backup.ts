/**
 * Backups of a SQLite store while Mailroom runs, and restoring one.
 *
 * The copy uses SQLite's online backup API (node:sqlite `backup()`), not a
 * file copy: a file copy of a database in WAL mode taken while it is written
 * can miss the WAL or tear a page. All pages are copied in one step, inside
 * one read transaction: under WAL that is a consistent snapshot that writers
 * never wait for, whereas a backup in small steps restarts whenever another
 * connection writes, and under steady load might never finish.
 *
 * PostgreSQL stores are backed up with pg_dump (README: "Retention and backups").
 */
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DatabaseSync, backup } from 'node:sqlite';
import { UserError } from '../errors.ts';
import { PENDING_SQL_LIST } from '../queue/delivery-status.ts';
import { heartbeatAlive } from '../store/node-heartbeat.ts';

/** All pages in one step (see above). */
const ALL_PAGES = 2_147_483_647;

export interface BackupSummary {
  file: string;
  bytes: number;
  messages: number;
  /** Deliveries still queued or deferred in the copy: what a restore will deliver. */
  waiting: number;
}

export function sqlitePathOf(databaseUrl: string, action: string): string {
  if (!databaseUrl.startsWith('sqlite:')) {
    throw new UserError('invalid', 'not_sqlite', `${action} works on a SQLite store; for PostgreSQL use pg_dump and pg_restore (README: "Retention and backups")`, 'database-url');
  }
  return resolve(databaseUrl.slice('sqlite:'.length));
}

/** A consistent copy of the running store at `databasePath` in `file` (which must not exist yet). */
export async function backupSqlite(databasePath: string, file: string): Promise<BackupSummary> {
  const target = resolve(file);
  if (existsSync(target)) throw new UserError('conflict', 'backup_exists', `${target} exists already; choose a new file name`, 'file');
  if (!existsSync(databasePath)) throw new UserError('not-found', 'no_database', `there is no database at ${databasePath}`, 'database-url');
  const partial = `${target}.partial`;
  rmSync(partial, { force: true });
  const source = new DatabaseSync(databasePath, { timeout: 10_000 });
  try {
    await backup(source, partial, { rate: ALL_PAGES });
  } finally {
    source.close();
  }
  // One self-contained file (no -wal beside it), checked before it gets its name.
  const copy = new DatabaseSync(partial);
  let summary: Omit<BackupSummary, 'file' | 'bytes'>;
  try {
    copy.exec('PRAGMA journal_mode = DELETE');
    checkIntegrity(copy, partial);
    summary = counts(copy);
  } finally {
    copy.close();
  }
  renameSync(partial, target);
  return { file: target, bytes: statSync(target).size, ...summary };
}

export interface RestoreSummary {
  database: string;
  messages: number;
  waiting: number;
}

/**
 * Replaces the store at `databasePath` with the backup in `file`. Mailroom must be stopped:
 * a node that heart-beat lately refuses the restore. Afterwards the restored store forgets
 * the nodes and job leases of the time of the backup and gives back the delivery leases
 * held then, so the next start delivers everything that was waiting at once.
 */
export async function restoreSqlite(file: string, databasePath: string, options: { force: boolean; now?: number }): Promise<RestoreSummary> {
  const source = resolve(file);
  if (!existsSync(source)) throw new UserError('not-found', 'no_backup', `there is no backup at ${source}`, 'file');
  const backupDb = new DatabaseSync(source, { readOnly: true });
  try {
    checkIntegrity(backupDb, source);
    if (!hasTable(backupDb, 'messages')) throw new UserError('invalid', 'not_a_backup', `${source} is not a Mailroom database`, 'file');
    if (existsSync(databasePath)) refuseLiveTarget(databasePath, options.force);
    mkdirSync(dirname(databasePath), { recursive: true });
    await backup(backupDb, databasePath, { rate: ALL_PAGES });
  } finally {
    backupDb.close();
  }
  const now = options.now ?? Date.now();
  const restored = new DatabaseSync(databasePath, { timeout: 10_000 });
  try {
    restored.exec('PRAGMA journal_mode = WAL');
    restored.exec('BEGIN IMMEDIATE');
    restored.exec('DELETE FROM nodes');
    if (hasTable(restored, 'job_leases')) restored.exec('DELETE FROM job_leases');
    restored.prepare(`UPDATE deliveries SET lease_owner = NULL, next_attempt_at = ? WHERE lease_owner IS NOT NULL AND status IN ${PENDING_SQL_LIST}`).run(now);
    restored.exec('COMMIT');
    return { database: databasePath, ...counts(restored) };
  } finally {
    restored.close();
  }
}

function refuseLiveTarget(databasePath: string, force: boolean): void {
  const target = new DatabaseSync(databasePath, { timeout: 10_000 });
  try {
    if (hasTable(target, 'nodes')) {
      const rows = target.prepare('SELECT id, heartbeat_at, heartbeat_ms FROM nodes').all() as Array<{ id: string; heartbeat_at: number; heartbeat_ms: number }>;
      const live = rows.filter((n) => heartbeatAlive(n, Date.now()));
      if (live.length > 0) throw new UserError('conflict', 'store_in_use', `Mailroom is running on ${databasePath} (node ${live.map((n) => n.id).join(', ')}); stop it before restoring`, 'database-url');
    }
    if (!force && hasTable(target, 'messages')) {
      throw new UserError('conflict', 'store_exists', `${databasePath} holds a Mailroom store already; pass --force to replace it with the backup`, 'database-url');
    }
  } finally {
    target.close();
  }
}

function checkIntegrity(db: DatabaseSync, path: string): void {
  const rows = db.prepare('PRAGMA quick_check').all() as Array<{ quick_check: string }>;
  if (rows[0]?.quick_check !== 'ok') throw new UserError('invalid', 'corrupt_backup', `${path} fails SQLite's integrity check: ${rows.map((r) => r.quick_check).join('; ')}`, 'file');
}

function hasTable(db: DatabaseSync, name: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
}

function counts(db: DatabaseSync): { messages: number; waiting: number } {
  const messages = db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number };
  const waiting = db.prepare(`SELECT count(*) AS n FROM deliveries WHERE status IN ${PENDING_SQL_LIST}`).get() as { n: number };
  return { messages: Number(messages.n), waiting: Number(waiting.n) };
}
