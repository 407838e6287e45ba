/**
 * A throwaway database per case, as test/support/stores.ts makes them: a
 * SQLite file in a fresh temp directory, or a fresh PostgreSQL schema selected
 * through the connection's search_path. Both are removed afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { StoreName } from './options.ts';
import { onCleanup } from './cleanup.ts';

export const POSTGRES_URL = process.env.MAILROOM_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface BenchDatabase {
  /** A MAILROOM_DATABASE_URL for the server child. */
  url: string;
  /** The data directory to go with it (SQLite file, generated TLS certificate). */
  dataDir: string;
  drop(): Promise<void>;
}

export class StoreUnavailable extends Error {}

let postgresProblem: Promise<string | null> | null = null;

/** null when PostgreSQL answers, else why not. Asked once per run. */
export function postgresUnreachable(): Promise<string | null> {
  postgresProblem ??= (async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('select 1');
      return null;
    } catch (error) {
      return (error as Error).message || String(error);
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return postgresProblem;
}

export function makeTempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  const remove = () => rmSync(path, { recursive: true, force: true });
  const forget = onCleanup(remove);
  return { path, remove: () => { forget(); remove(); } };
}

export async function createBenchDatabase(store: StoreName): Promise<BenchDatabase> {
  if (store === 'postgres') {
    const problem = await postgresUnreachable();
    if (problem) throw new StoreUnavailable(`PostgreSQL at ${POSTGRES_URL} is unreachable (${problem})`);
  }
  const dir = makeTempDir('mailroom-bench-');
  if (store === 'sqlite') {
    return { url: `sqlite:${join(dir.path, 'mailroom.db')}`, dataDir: dir.path, drop: async () => dir.remove() };
  }
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  await withPostgres((client) => client.query(`create schema ${schema}`));
  const dropSchema = async () => { await withPostgres((client) => client.query(`drop schema if exists ${schema} cascade`)); };
  const forget = onCleanup(dropSchema);
  const separator = POSTGRES_URL.includes('?') ? '&' : '?';
  return {
    url: `${POSTGRES_URL}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    dataDir: dir.path,
    drop: async () => {
      forget();
      await dropSchema();
      dir.remove();
    },
  };
}

async function withPostgres(work: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}
