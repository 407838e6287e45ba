/**
 * Throwaway PostgreSQL schemas, for the tests and the benchmark alike: each
 * test or bench case gets a fresh schema, selected through the connection's
 * search_path, so it never sees another's rows, and drops it afterwards.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const probes = new Map<string, Promise<string | null>>();

/** null when PostgreSQL at `url` answers, else why not. Asked once per URL and process. */
export function postgresUnreachable(url: string): Promise<string | null> {
  let probe = probes.get(url);
  if (!probe) {
    probe = (async () => {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
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
    probes.set(url, probe);
  }
  return probe;
}

export interface ScratchSchema {
  /** `url` with the new schema as its search_path: a MAILROOM_DATABASE_URL, child processes included. */
  url: string;
  drop(): Promise<void>;
}

export async function createScratchSchema(url: string, prefix: string): Promise<ScratchSchema> {
  const schema = `${prefix}${randomBytes(6).toString('hex')}`;
  await withClient(url, (client) => client.query(`create schema ${schema}`));
  const separator = url.includes('?') ? '&' : '?';
  return {
    url: `${url}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    drop: () => withClient(url, (client) => client.query(`drop schema if exists ${schema} cascade`)),
  };
}

async function withClient(url: string, work: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}
