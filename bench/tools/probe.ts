/**
 * Loaded into a benchmarked server with `--import` (never by Mailroom itself): counts the
 * statements each thread sends to its store — on PostgreSQL each one is a round trip — and
 * measures the main thread's event-loop delay. Nothing is written while it runs (the counts
 * live in one SharedArrayBuffer the threads share, handed out over a BroadcastChannel); on
 * SIGUSR2 the main thread writes the totals and the event-loop delay since the previous
 * SIGUSR2 to `$MAILROOM_BENCH_PROBE.<pid>` and starts a new histogram. Read by server-probe.ts.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { StatementSync } from 'node:sqlite';
import { BroadcastChannel, isMainThread, threadId } from 'node:worker_threads';

const prefix = process.env.MAILROOM_BENCH_PROBE;
/** Slots of the shared counter: one per thread, by thread id (a process has few). */
const SLOTS = 256;

if (prefix) {
  // Counted locally until the shared counter arrives (a worker's first statements).
  let local = 0;
  let shared: Int32Array | null = null;
  const count = () => {
    if (shared) Atomics.add(shared, threadId % SLOTS, 1);
    else local++;
  };
  const channel = new BroadcastChannel(`mailroom-bench-probe-${process.pid}`);
  channel.unref();
  if (isMainThread) {
    shared = new Int32Array(new SharedArrayBuffer(4 * SLOTS));
    channel.onmessage = (event) => {
      if ((event as MessageEvent).data === 'counter?') channel.postMessage(shared!.buffer);
    };
  } else {
    channel.onmessage = (event) => {
      const data = (event as MessageEvent).data;
      if (shared || !(data instanceof SharedArrayBuffer)) return;
      shared = new Int32Array(data);
      Atomics.add(shared, threadId % SLOTS, local);
      channel.close();
    };
    channel.postMessage('counter?');
  }

  // MAILROOM_BENCH_PROBE_SQL=<directory>: also count each statement's text there, once a second (to see which ones a message costs).
  const textDir = process.env.MAILROOM_BENCH_PROBE_SQL;
  const texts = textDir ? new Map<string, number>() : null;
  const note = (text: unknown) => {
    if (!texts) return;
    const key = (typeof text === 'string' ? text : (text as { text?: string })?.text ?? '?').replace(/\s+/g, ' ').slice(0, 140);
    texts.set(key, (texts.get(key) ?? 0) + 1);
  };
  if (texts) {
    setInterval(() => writeFileSync(`${textDir}/statements-${process.pid}-${threadId}.json`, JSON.stringify([...texts].sort((a, b) => b[1] - a[1]), null, 1)), 1000).unref();
  }

  const pg = createRequire(import.meta.url)('pg') as { Client: { prototype: { query: (...args: unknown[]) => unknown } } };
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function counted(this: unknown, ...args: unknown[]) {
    count();
    note(args[0]);
    return query.apply(this, args);
  };
  for (const method of ['run', 'all', 'iterate', 'get'] as const) {
    const original = StatementSync.prototype[method] as (...args: unknown[]) => unknown;
    (StatementSync.prototype as unknown as Record<string, unknown>)[method] = function counted(this: unknown, ...args: unknown[]) {
      count();
      note((this as StatementSync).sourceSQL);
      return original.apply(this, args);
    };
  }

  if (isMainThread) {
    let delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    process.on('SIGUSR2', () => {
      const statements = shared!.reduce((sum, value) => sum + value, 0);
      const figures = { statements, p99Ms: delay.percentile(99) / 1e6, maxMs: delay.max / 1e6, meanMs: delay.mean / 1e6 };
      delay.disable();
      delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      writeFileSync(`${prefix}.${process.pid}`, JSON.stringify(figures));
    });
  }
}
