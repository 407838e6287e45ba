/**
 * Opens the one store of the process: SQLite (embedded default) or PostgreSQL
 * (several nodes). Everything above this folder writes dialect-free Kysely
 * queries; what differs between the engines lives in this folder.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { Migrator, type MigrationProvider } from 'kysely/migration';
import pg from 'pg';
import type { Database } from './schema.ts';
import { migrations } from './migrations/index.ts';
import { openSqliteDatabase } from './sqlite-driver.ts';

export type Engine = 'sqlite' | 'postgres';

export interface Store {
  readonly db: Kysely<Database>;
  readonly engine: Engine;
  /** The MAILROOM_DATABASE_URL it was opened from (node locks open their own connection to it). */
  readonly url: string;
  close(): Promise<void>;
}

// int8 columns hold epoch milliseconds, well inside Number's exact range.
pg.types.setTypeParser(pg.types.builtins.INT8, Number);

export async function openStore(url: string): Promise<Store> {
  const store = url.startsWith('sqlite:') ? openSqlite(url.slice('sqlite:'.length)) : openPostgres(url);
  await migrate(store);
  return store;
}

function openSqlite(path: string): Store {
  const file = resolve(path);
  mkdirSync(dirname(file), { recursive: true });
  const { database } = openSqliteDatabase(file);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  return { db, engine: 'sqlite', url: `sqlite:${file}`, close: () => db.destroy() };
}

/** Statement texts given a name, at most: the multi-row inserts have a text per row count, and each name costs memory on every connection. */
const MAX_NAMED_STATEMENTS = 1000;
const statementNames = new Map<string, string>();
const PREPARABLE = /^\s*(select|insert|update|delete|with)\b/i;

/**
 * A connection that prepares the statements it runs (a named statement per distinct text,
 * parsed and planned by PostgreSQL once per connection instead of on every call; Kysely sends
 * the same text for the same query shape). Plain text statements (BEGIN, COMMIT, DDL) and
 * those without parameters go as they are.
 */
class PreparingClient extends pg.Client {
  override query(config: unknown, values?: unknown, callback?: unknown): never {
    if (typeof config === 'string' && Array.isArray(values) && values.length > 0 && PREPARABLE.test(config)) {
      let name = statementNames.get(config);
      if (name === undefined && statementNames.size < MAX_NAMED_STATEMENTS) {
        name = `mr_${createHash('sha1').update(config).digest('hex').slice(0, 20)}`;
        statementNames.set(config, name);
      }
      if (name !== undefined) return (super.query as (...args: unknown[]) => never)({ name, text: config, values }, callback);
    }
    return (super.query as (...args: unknown[]) => never)(config, values, callback);
  }
}

function openPostgres(url: string): Store {
  const pool = new pg.Pool({ connectionString: url, max: 20, Client: PreparingClient });
  // A dropped connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, engine: 'postgres', url, close: () => db.destroy() };
}

// Any constant will do, as long as every Mailroom node uses the same one.
const MIGRATION_LOCK_KEY = 7_243_118_001;

/**
 * Runs the migrations under a lock held for the whole run, Kysely's own
 * bookkeeping tables included, so nodes (or a node and the CLI) starting at
 * once on a fresh database migrate one after the other: PostgreSQL takes a
 * session advisory lock on one pinned connection; SQLite runs everything in
 * one BEGIN IMMEDIATE transaction (its DDL is transactional).
 */
async function migrate(store: Store): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(store.engine) };
  await store.db.connection().execute(async (conn) => {
    if (store.engine === 'postgres') await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`.execute(conn);
    else await sql`begin immediate`.execute(conn);
    let outcome: Awaited<ReturnType<Migrator['migrateToLatest']>>;
    try {
      // Kysely looks its bookkeeping tables up in `public` unless told otherwise;
      // name the connection's own schema so a search_path-selected schema works.
      const migrationTableSchema = store.engine === 'postgres'
        ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(conn)).rows[0].schema
        : undefined;
      outcome = await new Migrator({ db: conn, provider, migrationTableSchema }).migrateToLatest();
      if (store.engine === 'sqlite') await sql`${sql.raw(outcome.error ? 'rollback' : 'commit')}`.execute(conn);
    } catch (error) {
      if (store.engine === 'sqlite') await sql`rollback`.execute(conn).catch(() => {});
      throw error;
    } finally {
      if (store.engine === 'postgres') await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.execute(conn).catch(() => {});
    }
    if (outcome.error) {
      const failed = outcome.results?.find((result) => result.status === 'Error');
      throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${(outcome.error as Error).message ?? outcome.error}`);
    }
  });
}
