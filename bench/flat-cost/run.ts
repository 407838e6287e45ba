/**
 * The flat-cost case: does Mailroom stay as fast with a busy queue and a month
 * of history as on an empty store? Per store, the same measurements run twice
 * in one run, on an empty store and on one pre-filled with 1,000,000 deferred
 * deliveries not yet due and 10,000,000 history rows (`--flat-scale` scales
 * both): durable acceptance, end-to-end delivery, the claim of due work, and
 * GET /api/v1/messages (first page and a deep cursor). Then the query plans,
 * and the store's size before and after a retention pass.
 */
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/database.ts';
import { createAccount } from '../../src/accounts/accounts.ts';
import { firstIdAt } from '../../src/store/ids.ts';
import type { BenchOptions, StoreName } from '../options.ts';
import { createBenchDatabase, StoreUnavailable, type BenchDatabase } from '../stores.ts';
import { forkServer } from '../servers/fork-server.ts';
import { serverEnv } from '../servers/env.ts';
import { runLoadInChild } from '../load/run-load.ts';
import { endToEndOn } from '../multinode.ts';
import { chunk, prefill } from './prefill.ts';
import { measureClaim, measureMessageList, queryPlans, retentionPass, storeSize, type Timing } from './measure.ts';

const MAILROOM = fileURLToPath(new URL('../servers/mailroom.ts', import.meta.url));
const FULL = { deferred: 1_000_000, finished: 1_000_000 };
/** Recent, delivered messages every store has (so the empty store's first page is a full page too). */
const RECENT = 1_000;
const RETENTION_OFF = { MAILROOM_BODY_RETENTION: 'off', MAILROOM_HISTORY_RETENTION: 'off' };

interface Figures {
  acceptance: { perSecond: number; p99Ms: number };
  endToEnd: { perSecond: number; p99Ms: number };
  claim: Timing;
  firstPage: Timing;
  deepPage: Timing;
}

export async function runFlatCost(options: BenchOptions): Promise<void> {
  const scale = options.flatScale;
  const plan = { deferred: Math.round(FULL.deferred * scale), finished: Math.round(FULL.finished * scale) };
  console.log(`\nFlat cost: empty store against one pre-filled with ${plan.deferred.toLocaleString('en')} deferred deliveries not yet due `
    + `and ${(plan.finished * 10).toLocaleString('en')} history rows${scale === 1 ? '' : ` (--flat-scale ${scale}: NOT the full size)`}`);
  for (const engine of options.stores) {
    try {
      const empty = await figuresFor(engine, null, options);
      const full = await figuresFor(engine, plan, options);
      printTable(engine, empty, full);
    } catch (error) {
      console.log(`  ${engine}: ${error instanceof StoreUnavailable ? 'skipped' : 'failed'}: ${(error as Error).stack ?? error}`);
    }
  }
}

async function figuresFor(engine: StoreName, plan: { deferred: number; finished: number } | null, options: BenchOptions): Promise<Figures> {
  const label = plan ? 'pre-filled' : 'empty';
  const database = await createBenchDatabase(engine);
  try {
    const now = Date.now();
    const store = await openStore(database.url);
    let secret: string;
    let deepId: string;
    let claim: Timing;
    try {
      const history = await createAccount(store, { email: 'history@bench-history.example', dailyLimit: 1_000_000_000 });
      secret = history.key.secret;
      const accountId = history.account.id;
      await chunk(store, 'r', 0, RECENT, now - 3_600_000, { accountId, now }, 'delivered');
      if (plan) {
        const filled = await prefill(store, { accountId, ...plan, now });
        console.log(`  ${engine} ${label}: ${filled.deferred.toLocaleString('en')} deferred + ${filled.historyRows.toLocaleString('en')} history rows in ${filled.seconds.toFixed(1)} s; `
          + `store ${mb(await storeSize(store, database.url))}`);
      }
      // A page from the middle of what the account holds: half-way down its ids.
      deepId = await middleId(store, accountId);
      claim = await measureClaim(store, accountId, Date.now());
      if (plan) for (const line of await queryPlans(store, accountId, deepId, Date.now())) console.log(`    ${line}`);
    } finally {
      await store.close();
    }
    const list = await measureMessageList(database.url, database.dataDir, secret, deepId);
    const acceptance = await measureAcceptance(database, engine, label, options);
    // Retention is measured on its own below, not in the middle of the end-to-end run.
    const endToEnd = await endToEndOn(database, 1, Math.min(...options.sizes), options, RETENTION_OFF);
    console.log(`  ${engine} ${label}: acceptance ${acceptance.perSecond.toFixed(0)} msgs/s, end to end ${endToEnd.perSecond.toFixed(0)} msgs/s`);
    if (plan) {
      const sizeBefore = await withStore(database, (store) => storeSize(store, database.url));
      await acceptanceDuringRetention(database, engine, options, acceptance);
      await reportRetention(database, sizeBefore);
    }
    return {
      acceptance, endToEnd: { perSecond: endToEnd.perSecond, p99Ms: endToEnd.p99Ms },
      claim, firstPage: list.first, deepPage: list.deep,
    };
  } finally {
    await database.drop();
  }
}

/**
 * Acceptance while the same node's retention job deletes the pre-filled history (its first pass
 * starts a second after start, in the warm-up): retention must not stall acceptance.
 */
async function acceptanceDuringRetention(database: BenchDatabase, engine: StoreName, options: BenchOptions, without: { perSecond: number; p99Ms: number }): Promise<void> {
  const count = () => withStore(database, async (store) => {
    const all = await store.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const emptied = await store.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('body_expired_at', 'is not', null).executeTakeFirstOrThrow();
    return { all: Number(all.n), emptied: Number(emptied.n) };
  });
  const before = await count();
  const during = await measureAcceptance(database, engine, 'during-retention', options, { MAILROOM_BENCH_SENDER_DOMAIN: 'bench-retention.example', MAILROOM_RETENTION_INTERVAL: '1s' });
  const after = await count();
  const deleted = before.all + during.accepted - after.all;
  console.log(`    acceptance while the node's retention pass ran (meanwhile ${(after.emptied - before.emptied + deleted).toLocaleString('en')} bodies emptied, `
    + `${deleted.toLocaleString('en')} messages deleted): `
    + `${during.perSecond.toFixed(0)} msgs/s, p99 ${fmt(during.p99Ms)} ms (without retention: ${without.perSecond.toFixed(0)} msgs/s, p99 ${fmt(without.p99Ms)} ms)`);
}

async function measureAcceptance(
  database: BenchDatabase, engine: StoreName, label: string, options: BenchOptions,
  env: Record<string, string> = { MAILROOM_BENCH_SENDER_DOMAIN: 'bench-acceptance.example', ...RETENTION_OFF },
): Promise<{ perSecond: number; p99Ms: number; accepted: number }> {
  const server = await forkServer(MAILROOM, {
    env: serverEnv(database.dataDir, database.url, env),
    profileDir: options.profileDir, profileName: `flat-cost-${engine}-${label}`,
  });
  try {
    const result = await runLoadInChild({
      target: server.target, tls: 'plain', size: Math.min(...options.sizes), connections: options.connections, sessionPerMessage: false,
      warmupMs: options.warmupSeconds * 1000, measureMs: options.seconds * 1000,
    }, server.cpu);
    if (result.errors > 0) console.log(`    acceptance errors: ${result.errors} (${result.firstError})`);
    // Warm-up messages are stored too: count every 250 of the run.
    const accepted = await withStore(database, async (store) => Number((await store.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('header_from', 'like', `%@${env.MAILROOM_BENCH_SENDER_DOMAIN}`).executeTakeFirstOrThrow()).n));
    return { perSecond: result.perSecond, p99Ms: result.p99Ms, accepted };
  } finally {
    await server.stop();
  }
}

async function withStore<T>(database: BenchDatabase, work: (store: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T> {
  const store = await openStore(database.url);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** The rest of the retention pass (the node above may have done part of it), and the store's size around it. */
async function reportRetention(database: BenchDatabase, before: number): Promise<void> {
  const store = await openStore(database.url);
  try {
    const { report, seconds } = await retentionPass(store, database.url);
    const after = await storeSize(store, database.url);
    console.log(`    retention pass (the rest): ${report.messagesDeleted.toLocaleString('en')} messages with their history deleted, `
      + `${report.bodiesExpired.toLocaleString('en')} bodies expired, in ${seconds.toFixed(1)} s; store ${mb(before)} before, ${mb(after)} after`
      + (store.engine === 'postgres' ? ' (PostgreSQL keeps the freed pages for reuse; autovacuum marks them free, the files do not shrink)' : ''));
  } finally {
    await store.close();
  }
}

async function middleId(store: Awaited<ReturnType<typeof openStore>>, accountId: string): Promise<string> {
  const oldest = await store.db.selectFrom('messages').select('id').where('account_id', '=', accountId).orderBy('id').limit(1).executeTakeFirstOrThrow();
  const newest = await store.db.selectFrom('messages').select('id').where('account_id', '=', accountId).orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
  // Half-way in time between the oldest and newest ids: a cursor deep in the list without counting rows.
  const time = (id: string) => parseInt(id.slice(0, 9), 36);
  return firstIdAt(Math.floor((time(oldest.id) + time(newest.id)) / 2)) + 'zzzzzzzzzzz';
}

function printTable(engine: StoreName, empty: Figures, full: Figures): void {
  const rows: Array<[string, number, number, 'higher' | 'lower']> = [
    ['acceptance msgs/s', empty.acceptance.perSecond, full.acceptance.perSecond, 'higher'],
    ['acceptance p99 ms', empty.acceptance.p99Ms, full.acceptance.p99Ms, 'lower'],
    ['end to end msgs/s', empty.endToEnd.perSecond, full.endToEnd.perSecond, 'higher'],
    ['end to end p99 ms', empty.endToEnd.p99Ms, full.endToEnd.p99Ms, 'lower'],
    ['claim of 50 due, p50 ms', empty.claim.p50Ms, full.claim.p50Ms, 'lower'],
    ['claim of 50 due, p99 ms', empty.claim.p99Ms, full.claim.p99Ms, 'lower'],
    ['claim of 50 due, cpu µs', empty.claim.cpuMicros, full.claim.cpuMicros, 'lower'],
    ['GET messages first page p50 ms', empty.firstPage.p50Ms, full.firstPage.p50Ms, 'lower'],
    ['GET messages first page p99 ms', empty.firstPage.p99Ms, full.firstPage.p99Ms, 'lower'],
    ['GET messages first page cpu µs', empty.firstPage.cpuMicros, full.firstPage.cpuMicros, 'lower'],
    ['GET messages deep cursor p50 ms', empty.deepPage.p50Ms, full.deepPage.p50Ms, 'lower'],
    ['GET messages deep cursor p99 ms', empty.deepPage.p99Ms, full.deepPage.p99Ms, 'lower'],
    ['GET messages deep cursor cpu µs', empty.deepPage.cpuMicros, full.deepPage.cpuMicros, 'lower'],
  ];
  console.log(`\n  ${engine}                          empty   pre-filled   change`);
  for (const [name, a, b, better] of rows) {
    const change = a === 0 ? 0 : ((b - a) / a) * 100;
    const worse = better === 'higher' ? change < -10 : change > 10;
    console.log(`  ${name.padEnd(32)} ${fmt(a).padStart(8)} ${fmt(b).padStart(10)}   ${`${change >= 0 ? '+' : ''}${change.toFixed(0)}%`.padStart(6)}${worse ? '  (more than 10% worse)' : ''}`);
  }
  const p99 = Math.max(full.firstPage.p99Ms, full.deepPage.p99Ms);
  console.log(`  API page p99 on the pre-filled store: ${fmt(p99)} ms (target: under 50 ms) ${p99 < 50 ? 'met' : 'NOT met'}`);
}

function fmt(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(2);
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
