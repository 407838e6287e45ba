/**
 * The figures of the flat-cost case that are taken in this process: the
 * claim of due work, the message list over HTTP (first page and a deep
 * cursor), the query plans behind them, the store's size, and a retention pass.
 */
import { statSync, existsSync } from 'node:fs';
import { createHistogram } from 'node:perf_hooks';
import { sql } from 'kysely';
import pino from 'pino';
import type { Store } from '../../src/store/database.ts';
import { claimDueDeliveries } from '../../src/queue/claim-deliveries.ts';
import { PENDING_SQL_LIST } from '../../src/queue/delivery-status.ts';
import { loadConfig } from '../../src/config/load.ts';
import { startMailroom } from '../../src/main.ts';
import { encodeCursor } from '../../src/api/pagination.ts';
import { inThreadWriter, startWriterThread } from '../../src/write-operations.ts';
import { startRetentionJob, type RetentionReport } from '../../src/retention/job.ts';
import { chunk } from './prefill.ts';

export interface Timing {
  p50Ms: number;
  p99Ms: number;
  /** CPU time of this process per operation (for the API pages: client and server, both in this process); steadier than wall time on a shared machine. */
  cpuMicros: number;
}

async function timed(times: number, work: () => Promise<unknown>): Promise<Timing> {
  const histogram = createHistogram({ lowest: 1, highest: 60_000_000, figures: 3 });
  const cpu = process.cpuUsage();
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await work();
    histogram.record(Math.max(1, Math.round((performance.now() - started) * 1000)));
  }
  const used = process.cpuUsage(cpu);
  return { p50Ms: histogram.percentile(50) / 1000, p99Ms: histogram.percentile(99) / 1000, cpuMicros: (used.user + used.system) / times };
}

/** Claims of 50 due deliveries at a time, as the delivery worker makes them, out of 10,000 made due for it (200 claims, so p99 is not just the slowest). */
export async function measureClaim(store: Store, accountId: string, now: number): Promise<Timing> {
  await chunk(store, 'c', 0, 10_000, now - 60_000, { accountId, now }, 'due');
  const owner = 'bench-claim';
  const timing = await timed(200, () => store.db.transaction().execute((tx) => claimDueDeliveries(tx, store.engine, { owner, now, leaseMs: 600_000, limit: 50 })));
  // Out of the way of the nodes measured next.
  await store.db.updateTable('deliveries').set({ status: 'delivered', lease_owner: null }).where('lease_owner', '=', owner).execute();
  await store.db.updateTable('deliveries').set({ status: 'delivered' }).where('recipient_domain', '=', 'recipientc.example').execute();
  return timing;
}

/** GET /api/v1/messages: the first page, and a page from the middle of the account's messages. */
export async function measureMessageList(url: string, dataDir: string, secret: string, deepId: string): Promise<{ first: Timing; deep: Timing }> {
  const config = loadConfig({
    MAILROOM_DATABASE_URL: url, MAILROOM_DATA_DIR: dataDir, MAILROOM_HOSTNAME: 'mailroom.bench', MAILROOM_ROLES: 'http',
    MAILROOM_HTTP_HOST: '127.0.0.1', MAILROOM_HTTP_PORT: '0', MAILROOM_SMTP_PORT: 'off', MAILROOM_SMTPS_PORT: 'off',
    MAILROOM_BODY_RETENTION: 'off', MAILROOM_HISTORY_RETENTION: 'off', MAILROOM_LOG_LEVEL: 'silent', MAILROOM_SHUTDOWN_TIMEOUT: '2s',
  });
  const running = await startMailroom(config, pino({ level: 'silent' }));
  try {
    const port = running.listeners.find((l) => l.name.startsWith('http'))!.port;
    const get = async (query: string) => {
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/messages?limit=50${query}`, { headers: { authorization: `Bearer ${secret}` } });
      if (response.status !== 200) throw new Error(`GET /api/v1/messages${query}: ${response.status} ${await response.text()}`);
      const body = await response.json() as { items: unknown[] };
      if (body.items.length === 0) throw new Error('an empty page');
    };
    await get(''); // warm-up: statement caches, JIT
    return { first: await timed(200, () => get('')), deep: await timed(200, () => get(`&cursor=${encodeCursor(deepId)}`)) };
  } finally {
    await running.stop();
  }
}

/** The query plans of the message list (first page, deep cursor) and of the claim, as the engine chooses them. */
export async function queryPlans(store: Store, accountId: string, deepId: string, now: number): Promise<string[]> {
  const list = (cursor: string | null) => sql`select id, header_from, mail_from, subject, tags, created_at from messages
    where account_id = ${accountId} ${cursor === null ? sql`` : sql`and id < ${cursor}`} order by id desc limit 51`;
  const claim = sql`select id from deliveries where status in ${sql.raw(PENDING_SQL_LIST)} and next_attempt_at <= ${now} order by next_attempt_at limit 50`;
  const explain = store.engine === 'postgres' ? sql`explain (analyze, costs off, timing off, summary off)` : sql`explain query plan`;
  const out: string[] = [];
  for (const [name, query] of [['message list, first page', list(null)], ['message list, deep cursor', list(deepId)], ['claim of due work', claim]] as const) {
    const { rows } = await sql<Record<string, unknown>>`${explain} ${query}`.execute(store.db);
    const lines = rows.map((row) => String(row['QUERY PLAN'] ?? row.detail ?? JSON.stringify(row)));
    out.push(`${name}:`, ...lines.map((line) => `    ${line}`));
  }
  return out;
}

/** Bytes the store takes: the SQLite file and its WAL, or every relation of the schema. */
export async function storeSize(store: Store, url: string): Promise<number> {
  if (store.engine === 'sqlite') {
    // What the file holds, not what waits in the WAL to be folded in.
    await sql`pragma wal_checkpoint(truncate)`.execute(store.db);
    const file = url.slice('sqlite:'.length);
    return [file, `${file}-wal`].filter(existsSync).reduce((sum, f) => sum + statSync(f).size, 0);
  }
  const { rows } = await sql<{ bytes: string }>`select coalesce(sum(pg_total_relation_size(c.oid)), 0)::text as bytes from pg_class c
    join pg_namespace n on n.oid = c.relnamespace where n.nspname = current_schema() and c.relkind = 'r'`.execute(store.db);
  return Number(rows[0].bytes);
}

/** One retention pass with the production code, in batches of 1,000 and no rest (the store is otherwise idle). */
export async function retentionPass(store: Store, url: string): Promise<{ report: RetentionReport; seconds: number }> {
  const writer = store.engine === 'sqlite' ? await startWriterThread(url) : inThreadWriter(store);
  const job = startRetentionJob({
    writer, engine: store.engine, nodeId: 'bench-retention', logger: pino({ level: 'silent' }),
    settings: { bodyRetentionMs: 7 * 86_400_000, historyRetentionMs: 30 * 86_400_000, intervalMs: 600_000 },
  }, { batchSize: 1_000, pauseMs: 0, writerShare: 1, vacuumPages: 4_096, firstPassAfterMs: 3_600_000 });
  const started = performance.now();
  // The writer thread does not keep the process alive (it is unref'd, as in the service); this does, meanwhile.
  const keepAlive = setInterval(() => {}, 1000);
  try {
    const report = await job.runPass();
    if (!report) throw new Error('the retention lease is held elsewhere');
    return { report, seconds: (performance.now() - started) / 1000 };
  } finally {
    await job.stop();
    await writer.close();
    clearInterval(keepAlive);
  }
}
