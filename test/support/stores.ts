/**
 * Every store-touching suite runs once per engine from the same test code.
 * Each test gets a database of its own: a fresh SQLite file, or a fresh
 * PostgreSQL schema (selected through the connection's search_path), so tests
 * never see each other's rows.
 *
 * PostgreSQL comes from MAILROOM_TEST_POSTGRES_URL (default: the local server,
 * database `test`). In CI (CI=true) an unreachable server fails the suite
 * loudly; on a newcomer's machine without PostgreSQL it is skipped with a note.
 */
import { describe } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
import { openStore, type Store } from '../../src/store/database.ts';
import { createScratchSchema, postgresUnreachable } from './postgres-schema.ts';

export type EngineName = 'sqlite' | 'postgres';

export const POSTGRES_URL = process.env.MAILROOM_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  engine: EngineName;
  /** A MAILROOM_DATABASE_URL for this database, usable by child processes too. */
  url: string;
  /** The data directory to go with it (the SQLite file lives there). */
  dataDir: string;
  drop(): Promise<void>;
}

export interface TestStore extends TestDatabase {
  store: Store;
  /** Closes the store and drops the database. */
  cleanup(): Promise<void>;
}

export async function createTestDatabase(engine: EngineName): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-test-'));
  if (engine === 'sqlite') {
    return { engine, url: `sqlite:${join(dataDir, 'mailroom.db')}`, dataDir, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const unreachable = await postgresUnreachable(POSTGRES_URL);
  if (unreachable) throw new Error(`PostgreSQL at ${POSTGRES_URL} is unreachable: ${unreachable}`);
  const schema = await createScratchSchema(POSTGRES_URL, 't_');
  return {
    engine, url: schema.url, dataDir,
    drop: async () => {
      await schema.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function createTestStore(engine: EngineName): Promise<TestStore> {
  const database = await createTestDatabase(engine);
  const store = await openStore(database.url);
  return { ...database, store, cleanup: async () => { await store.close(); await database.drop(); } };
}

/**
 * Declares the suite once per engine. On a machine without PostgreSQL (and
 * not in CI) the PostgreSQL copy is skipped with the reason shown.
 */
export function describeEachStore(title: string, body: (engine: EngineName) => void): void {
  for (const engine of ['sqlite', 'postgres'] as const) {
    describe(`${title} [${engine}]`, { skip: engine === 'postgres' ? postgresSkipReason() : false }, () => body(engine));
  }
}

let skipReason: string | false | undefined;

function postgresSkipReason(): string | false {
  if (skipReason !== undefined) return skipReason;
  if (process.env.CI === 'true') return (skipReason = false);
  // Decided synchronously at declaration time: probe with psql-free TCP connect.
  skipReason = probePostgresSync() ? false : `PostgreSQL not reachable at ${POSTGRES_URL} (set MAILROOM_TEST_POSTGRES_URL; CI never skips)`;
  return skipReason;
}

function probePostgresSync(): boolean {
  const { hostname: host, port } = new URL(POSTGRES_URL.replace(/^postgres(ql)?:/, 'http:'));
  const probe = `const s=require('net').connect(${Number(port) || 5432},${JSON.stringify(host || '127.0.0.1')});s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(1));setTimeout(()=>process.exit(1),2000)`;
  const { status } = require('node:child_process').spawnSync(process.execPath, ['-e', probe]);
  return status === 0;
}
