/**
 * Loaded into a benchmarked server with `--import` (never by Mailroom itself): counts the
 * statements each thread sends to its store — on PostgreSQL each one is a round trip — and
 * measures the main thread's event-loop delay. Each thread writes its count to
 * `$MAILROOM_BENCH_PROBE.<pid>-<thread id>` ten times a second; on SIGUSR2 the main thread writes
 * the event-loop delay since the previous SIGUSR2 to `$MAILROOM_BENCH_PROBE.loop-<pid>` and starts
 * a new histogram. Read by server-probe.ts.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { StatementSync } from 'node:sqlite';
import { isMainThread, threadId } from 'node:worker_threads';

const prefix = process.env.MAILROOM_BENCH_PROBE;
if (prefix) {
  let statements = 0;
  // MAILROOM_BENCH_PROBE_SQL=<directory>: also count each statement's text there (to see which ones a message costs).
  const textDir = process.env.MAILROOM_BENCH_PROBE_SQL;
  const texts = textDir ? new Map<string, number>() : null;
  const note = (text: unknown) => {
    if (!texts) return;
    const key = (typeof text === 'string' ? text : (text as { text?: string })?.text ?? '?').replace(/\s+/g, ' ').slice(0, 140);
    texts.set(key, (texts.get(key) ?? 0) + 1);
  };
  const pg = createRequire(import.meta.url)('pg') as { Client: { prototype: { query: (...args: unknown[]) => unknown } } };
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function counted(this: unknown, ...args: unknown[]) {
    statements++;
    note(args[0]);
    return query.apply(this, args);
  };
  for (const method of ['run', 'all', 'iterate', 'get'] as const) {
    const original = StatementSync.prototype[method] as (...args: unknown[]) => unknown;
    (StatementSync.prototype as unknown as Record<string, unknown>)[method] = function counted(this: unknown, ...args: unknown[]) {
      statements++;
      note((this as StatementSync).sourceSQL);
      return original.apply(this, args);
    };
  }
  let written = -1;
  setInterval(() => {
    if (statements === written) return;
    written = statements;
    writeFileSync(`${prefix}.${process.pid}-${threadId}`, String(statements));
    if (texts) writeFileSync(`${textDir}/statements-${process.pid}-${threadId}.json`, JSON.stringify([...texts].sort((a, b) => b[1] - a[1]), null, 1));
  }, 100).unref();

  if (isMainThread) {
    let delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    process.on('SIGUSR2', () => {
      const figures = { p99Ms: delay.percentile(99) / 1e6, maxMs: delay.max / 1e6, meanMs: delay.mean / 1e6 };
      delay.disable();
      delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      writeFileSync(`${prefix}.loop-${process.pid}`, JSON.stringify(figures));
    });
  }
}
