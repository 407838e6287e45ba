/**
 * The benchmark's side of tools/probe.ts, plus the PostgreSQL server's own CPU: what a case
 * reads before and after its measured window to print, per message, the statements sent to
 * the store (on PostgreSQL each is a round trip) and the CPU time of the PostgreSQL backends
 * serving the server under test (found by application_name, read from /proc). Both are
 * steadier than rates on a shared machine.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const PROBE_MODULE = fileURLToPath(new URL('./probe.ts', import.meta.url));

export interface ServerProbe {
  /** Environment for the server: the probe's file prefix and a name for its PostgreSQL connections. */
  env: Record<string, string>;
  /** Node options that load the probe. */
  execArgv: string[];
  /** Asks the server process `pid` for its figures (statements so far, event-loop delay since the last ask) and starts a new delay histogram. */
  sample(pid: number): Promise<ProcessSample | null>;
  /** CPU time (µs) used so far by each PostgreSQL backend serving the server, by pid (empty on SQLite). */
  postgresMicros(): Promise<Map<number, number>>;
}

export interface ProcessSample {
  statements: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

/** What the window's samples come to, per message. */
export interface ProbeFigures {
  statementsPerMessage?: number;
  postgresMicrosPerMessage?: number;
  loopDelayP99Ms?: number;
}

export function serverProbe(dataDir: string, databaseUrl: string): ServerProbe {
  const prefix = join(dataDir, 'bench-probe');
  const appName = `mailroom-bench-${randomBytes(4).toString('hex')}`;
  const postgres = databaseUrl.startsWith('postgres');
  return {
    env: { MAILROOM_BENCH_PROBE: prefix, PGAPPNAME: appName },
    execArgv: ['--import', PROBE_MODULE],
    async sample(pid) {
      const file = `${prefix}.${pid}`;
      const before = readOrNull(file);
      process.kill(pid, 'SIGUSR2');
      for (let i = 0; i < 250; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        const now = readOrNull(file);
        if (now !== null && now !== before) return JSON.parse(now) as ProcessSample;
      }
      return null;
    },
    postgresMicros: () => (postgres ? backendMicros(databaseUrl, appName) : Promise.resolve(new Map())),
  };
}

function readOrNull(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

async function backendMicros(databaseUrl: string, appName: string): Promise<Map<number, number>> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'mailroom-bench-probe' });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', [appName]);
    return new Map(rows.map((row) => [row.pid, processMicros(row.pid)]));
  } finally {
    await client.end();
  }
}

/** What the backends used between two samples (a backend that went away in between is not counted). */
function backendDelta(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, micros] of after) total += micros - (before.get(pid) ?? 0);
  return total;
}

/**
 * Samples taken as the measured window opens and closes, for the server process `pid`:
 * call open() when it opens and close(messages) when it closes.
 */
export function probeWindow(probe: ServerProbe, pids: readonly number[], postgres: boolean) {
  let opened: { statements: number; backends: Map<number, number> } | null = null;
  const sampleAll = () => Promise.all(pids.map((pid) => probe.sample(pid)));
  const statementsOf = (samples: Array<ProcessSample | null>) => samples.reduce((sum, sample) => sum + (sample?.statements ?? NaN), 0);
  return {
    async open(): Promise<void> {
      const [samples, backends] = await Promise.all([sampleAll(), probe.postgresMicros()]);
      opened = { statements: statementsOf(samples), backends };
    },
    async close(): Promise<(messages: number) => ProbeFigures> {
      if (!opened) return () => ({});
      const [samples, backends] = await Promise.all([sampleAll(), probe.postgresMicros()]);
      const statements = statementsOf(samples) - opened.statements;
      const backendUse = backendDelta(opened.backends, backends);
      const delays = samples.filter((sample) => sample !== null);
      return (messages) => {
        const per = (value: number) => (messages > 0 ? value / messages : NaN);
        return {
          statementsPerMessage: per(statements),
          ...(postgres ? { postgresMicrosPerMessage: per(backendUse) } : {}),
          ...(delays.length > 0 ? { loopDelayP99Ms: Math.max(...delays.map((d) => d.p99Ms)) } : {}),
        };
      };
    },
  };
}

/** utime + stime of a process, from /proc (Linux; clock ticks of 10 ms); 0 once it has gone. */
export function processMicros(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return 0;
  }
}
