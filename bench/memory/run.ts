/**
 * The memory case: does a node's memory stay within a bounded range?
 *
 * 1. Steady run: one node (smtp + delivery, default settings, relaying to a
 *    loopback MX) accepts and delivers `--memory-rate` messages per second for
 *    `--memory-minutes`; its RSS and heap (after a full collection) are printed
 *    every minute, then their range and growth.
 * 2. Idle connections: a fresh node (smtp) measured with `--idle-connections`
 *    idle SMTP sessions held open by another process for `--idle-seconds`: RSS
 *    before, while held and after they close, and the acceptance rate of other
 *    clients meanwhile against the same load without them.
 */
import { fileURLToPath } from 'node:url';
import { fork } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchOptions, StoreName } from '../options.ts';
import { createBenchDatabase, StoreUnavailable, type BenchDatabase } from '../stores.ts';
import { forkServer, type ServerChild } from '../servers/fork-server.ts';
import { serverEnv } from '../servers/env.ts';
import { startWireMx } from '../servers/wire-mx.ts';
import type { MemorySample } from '../servers/protocol.ts';
import { runLoadInChild } from '../load/run-load.ts';
import type { LoadResult } from '../load/job.ts';
import { onCleanup } from '../cleanup.ts';
import { PacedSender } from './paced-sender.ts';
import type { IdleJob, IdleReport } from './idle-clients.ts';

const MAILROOM = fileURLToPath(new URL('../servers/mailroom.ts', import.meta.url));
const IDLE_CLIENTS = fileURLToPath(new URL('./idle-clients.ts', import.meta.url));
/** Connections of the paced sender: enough that the rate never waits on a reply (each message waits for its commit). */
const PACED_CONNECTIONS = 50;
/** Connections of the "other clients" measured beside the idle ones. */
const ACTIVE_CONNECTIONS = 10;
const ACTIVE_SECONDS = 20;
/** A full collection before each heap figure; `kill -USR2 <pid>` writes a heap snapshot into the current directory, to find what grows. */
const MEMORY_FLAGS = ['--expose-gc', '--heapsnapshot-signal=SIGUSR2'];
/** Loopback source addresses the idle connections come from (127.0.0.2 …). */
const IDLE_SOURCES = Array.from({ length: 20 }, (_, i) => `127.0.0.${i + 2}`);

export async function runMemory(options: BenchOptions): Promise<void> {
  const size = Math.min(...options.sizes);
  console.log(`\nMemory: ${options.memoryMinutes} min at ${options.memoryRate} msgs/s (${PACED_CONNECTIONS} connections, ${size} B), `
    + `then ${options.idleConnections.toLocaleString('en')} idle SMTP connections for ${options.idleSeconds} s. `
    + 'RSS as the system sees it; heap used after a full collection (the node runs with --expose-gc).');
  for (const engine of options.stores) {
    for (const part of [steadyRun, idleConnections]) {
      let database: BenchDatabase | null = null;
      try {
        database = await createBenchDatabase(engine);
        await part(engine, database, options, size);
      } catch (error) {
        console.log(`  ${engine}: ${error instanceof StoreUnavailable ? 'skipped' : 'failed'}: ${(error as Error).stack ?? error}`);
        if (error instanceof StoreUnavailable) break;
      } finally {
        await database?.drop();
      }
    }
  }
}

async function steadyRun(engine: StoreName, database: BenchDatabase, options: BenchOptions, size: number): Promise<void> {
  let arrived = 0;
  const mx = await startWireMx('sink.bench', () => { arrived++; return { accept: true }; });
  const server = await forkServer(MAILROOM, {
    env: serverEnv(database.dataDir, database.url, { MAILROOM_ROLES: 'smtp,delivery', MAILROOM_RELAY_HOST: `127.0.0.1:${mx.port}` }),
    execArgv: MEMORY_FLAGS, profileDir: options.profileDir, profileName: `memory-steady-${engine}`,
  });
  try {
    const sender = await PacedSender.connect(server.target, PACED_CONNECTIONS, size);
    const start = await server.memory();
    console.log(`\n  ${engine}, steady ${options.memoryRate} msgs/s (node pid ${server.pid}): at start RSS ${mb(start.rss)}, heap ${mb(start.heapUsed)}`);
    console.log('    minute   accepted  delivered  errors   server µs/msg      RSS   heap used   external   thread heaps');
    const samples: MemorySample[] = [];
    let previous = { accepted: 0, arrived: 0, cpu: await server.cpu() };
    sender.start(options.memoryRate);
    const startedAt = performance.now();
    const minutes = Math.ceil(options.memoryMinutes);
    for (let minute = 1; minute <= minutes; minute++) {
      const until = startedAt + Math.min(minute, options.memoryMinutes) * 60_000;
      await sleep(Math.max(0, until - performance.now()));
      const sample = await server.memory(true);
      const cpu = await server.cpu();
      samples.push(sample);
      const accepted = sender.counts.accepted - previous.accepted;
      console.log(`    ${String(minute).padStart(6)} ${accepted.toLocaleString('en').padStart(10)} ${(arrived - previous.arrived).toLocaleString('en').padStart(10)} `
        + `${String(sender.counts.errors).padStart(7)} ${(accepted > 0 ? ((cpu - previous.cpu) / accepted).toFixed(0) : '-').padStart(15)} `
        + `${mb(sample.rss).padStart(8)} ${mb(sample.heapUsed).padStart(11)} ${mb(sample.external).padStart(10)} ${mb(threadHeaps(sample)).padStart(14)}`);
      previous = { accepted: sender.counts.accepted, arrived, cpu };
    }
    await sender.stop();
    const deadline = performance.now() + 60_000;
    while (arrived < sender.counts.accepted && performance.now() < deadline) await sleep(200);
    const { accepted, errors, firstError, skipped } = sender.counts;
    console.log(`    ${accepted.toLocaleString('en')} accepted, ${arrived.toLocaleString('en')} delivered to the MX, ${errors} errors${firstError ? ` (first: ${firstError})` : ''}`
      + `${skipped > 0 ? `, ${skipped.toLocaleString('en')} turns skipped (the node fell behind the rate)` : ''}`);
    console.log(`    RSS:  ${range(samples.map((s) => s.rss))}`);
    console.log(`    heap: ${range(samples.map((s) => s.heapUsed))}`);
    console.log(`    worker threads' heaps (total, not collected first): ${range(samples.map(threadHeaps))}; at the end ${threadBreakdown(samples[samples.length - 1])}`);
  } finally {
    await server.stop();
    await mx.close();
  }
}

async function idleConnections(engine: StoreName, database: BenchDatabase, options: BenchOptions, size: number): Promise<void> {
  const server = await forkServer(MAILROOM, {
    env: serverEnv(database.dataDir, database.url), execArgv: MEMORY_FLAGS, profileDir: options.profileDir, profileName: `memory-idle-${engine}`,
  });
  try {
    const active = () => runLoadInChild({
      target: server.target, tls: 'plain', size, connections: ACTIVE_CONNECTIONS, sessionPerMessage: false,
      warmupMs: 2000, measureMs: Math.min(ACTIVE_SECONDS, options.idleSeconds) * 1000,
    }, server.cpu);
    const without = await active();
    const before = await server.memory();
    console.log(`\n  ${engine}, ${options.idleConnections.toLocaleString('en')} idle connections: before, RSS ${mb(before.rss)}, heap ${mb(before.heapUsed)}`);
    const idle = await holdIdle(server, options.idleConnections);
    try {
      const opened = await idle.opened;
      const holdingSince = performance.now();
      const held = await server.memory();
      console.log(`    ${opened.open.toLocaleString('en')} open after ${opened.seconds.toFixed(1)} s`
        + `${opened.refused > 0 ? `, ${opened.refused} refused (first: ${opened.firstRefusal})` : ''}: RSS ${mb(held.rss)}, heap ${mb(held.heapUsed)}`
        + `${opened.open > 0 ? ` (${kb((held.rss - before.rss) / opened.open)} RSS and ${kb((held.heapUsed - before.heapUsed) / opened.open)} heap per connection)` : ''}`);
      const withIdle = await active();
      await sleep(Math.max(0, holdingSince + options.idleSeconds * 1000 - performance.now()));
      const end = await server.memory();
      const closed = await idle.close();
      console.log(`    after ${options.idleSeconds} s held: RSS ${mb(end.rss)}, heap ${mb(end.heapUsed)}; ${closed.droppedByServer} closed by the node meanwhile`);
      await sleep(2000);
      const after = await server.memory();
      console.log(`    2 s after they closed: RSS ${mb(after.rss)}, heap ${mb(after.heapUsed)}`);
      console.log(`    other clients (${ACTIVE_CONNECTIONS} connections, ${size} B): ${activeLine(without)} without the idle connections, ${activeLine(withIdle)} with them`);
    } finally {
      idle.kill();
    }
  } finally {
    await server.stop();
  }
}

interface IdleHolder {
  opened: Promise<Extract<IdleReport, { type: 'holding' }>>;
  close(): Promise<Extract<IdleReport, { type: 'closed' }>>;
  kill(): void;
}

function holdIdle(server: ServerChild, count: number): IdleHolder {
  const child = fork(IDLE_CLIENTS, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const forget = onCleanup(() => { child.kill('SIGKILL'); });
  const next = <T extends IdleReport['type']>(type: T) => new Promise<Extract<IdleReport, { type: T }>>((resolve, reject) => {
    const onExit = () => reject(new Error(`the idle clients' process exited before it reported ${type}`));
    child.once('exit', onExit);
    child.once('message', (report: IdleReport) => {
      child.off('exit', onExit);
      if (report.type !== type) return reject(new Error(`idle clients reported ${report.type}, not ${type}`));
      resolve(report as Extract<IdleReport, { type: T }>);
    });
  });
  const opened = next('holding');
  child.send({ host: server.target.host, port: server.target.port, count, sources: IDLE_SOURCES } satisfies IdleJob);
  return {
    opened,
    close() {
      const closed = next('closed');
      child.send('close');
      return closed;
    },
    kill() {
      forget();
      child.kill('SIGKILL');
    },
  };
}

function activeLine(result: LoadResult): string {
  const micros = result.perSecond > 0 ? `, ${((result.serverCpu * 10_000) / result.perSecond).toFixed(0)} µs/msg server cpu` : '';
  return `${result.perSecond.toFixed(0)} msgs/s, p99 ${result.p99Ms.toFixed(1)} ms${micros}${result.errors > 0 ? `, ${result.errors} errors (${result.firstError})` : ''}`;
}

/** min–max over the minutes, and growth from the first minute's sample to the last (and per minute). */
function range(values: number[]): string {
  if (values.length === 0) return '-';
  const growth = values[values.length - 1] - values[0];
  const perMinute = values.length > 1 ? growth / (values.length - 1) : 0;
  return `min ${mb(Math.min(...values))}, max ${mb(Math.max(...values))}, `
    + `first minute ${mb(values[0])} → last ${mb(values[values.length - 1])} (${growth >= 0 ? '+' : ''}${mb(growth)}, ${perMinute >= 0 ? '+' : ''}${mb(perMinute)}/min)`;
}

function threadHeaps(sample: MemorySample): number {
  return sample.threads.reduce((sum, thread) => sum + thread.heapTotal, 0);
}

function threadBreakdown(sample: MemorySample | undefined): string {
  return sample ? sample.threads.map((t) => `${t.name} ${mb(t.heapUsed)} used of ${mb(t.heapTotal)}`).join(', ') : '-';
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}
