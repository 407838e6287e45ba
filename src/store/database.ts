/**
 * Opens the one store of the process: SQLite (embedded default) or PostgreSQL
 * (several nodes). Everything above this folder writes dialect-free Kysely
 * queries; what differs between the engines lives in this folder.
 */
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
  return { db, engine: 'sqlite', close: () => db.destroy() };
}

function openPostgres(url: string): Store {
  const pool = new pg.Pool({ connectionString: url, max: 20 });
  // A dropped connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, engine: 'postgres', close: () => db.destroy() };
}

async function migrate(store: Store): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(store.engine) };
  // Kysely looks its bookkeeping tables up in `public` unless told otherwise;
  // name the connection's own schema so a search_path-selected schema works.
  const migrationTableSchema = store.engine === 'postgres'
    ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(store.db)).rows[0].schema
    : undefined;
  const migrator = new Migrator({ db: store.db, provider, migrationTableSchema });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((result) => result.status === 'Error');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? error}`);
  }
}
