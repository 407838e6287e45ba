/**
 * A throwaway database per case, as the tests make them: a SQLite file in a
 * fresh temp directory, or a fresh PostgreSQL schema (test/support/postgres-schema.ts).
 * Both are removed afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreName } from './options.ts';
import { onCleanup } from './cleanup.ts';
// The tests make their throwaway PostgreSQL schemas the same way.
import { createScratchSchema, postgresUnreachable as postgresProbe } from '../test/support/postgres-schema.ts';

export const POSTGRES_URL = process.env.MAILROOM_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface BenchDatabase {
  /** A MAILROOM_DATABASE_URL for the server child. */
  url: string;
  /** The data directory to go with it (SQLite file, generated TLS certificate). */
  dataDir: string;
  drop(): Promise<void>;
}

export class StoreUnavailable extends Error {}

/** null when PostgreSQL answers, else why not. Asked once per run. */
export function postgresUnreachable(): Promise<string | null> {
  return postgresProbe(POSTGRES_URL);
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
  const schema = await createScratchSchema(POSTGRES_URL, 'bench_');
  const forget = onCleanup(schema.drop);
  return {
    url: schema.url,
    dataDir: dir.path,
    drop: async () => {
      forget();
      await schema.drop();
      dir.remove();
    },
  };
}
