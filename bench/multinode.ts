/**
 * End to end on PostgreSQL, with one node and with two: messages submitted
 * over SMTP until every one of them has arrived at a loopback MX. Each node
 * is a real `mailroom start` process with the smtp and delivery roles, and
 * the client's connections are split evenly between them, so the row pair
 * shows what going multi-node costs (lease claims racing on one queue, two
 * processes on the same cores) against what it gains.
 *
 * The MX is a minimal SMTP sink in this process, reached as the relay host
 * (MAILROOM_RELAY_HOST), so no DNS is involved; it offers no STARTTLS.
 * Latency runs from writing MAIL FROM to the message's arrival at the sink.
 * Count-based, not timed: 600 messages per measured second asked for
 * (`--seconds`), after a warm-up of 300 per warm-up second, all delivered.
 * At about 1,000 msgs/s a smaller count ends within two or three seconds,
 * where the start (connections opening, code warming up) and the tail (the
 * last deliveries after the last acceptance) weigh more than the pace.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { createHistogram } from 'node:perf_hooks';
import { createAccount } from '../src/accounts/accounts.ts';
import { addDomain, forceVerifyDomain, getDomainRow } from '../src/domains/domains.ts';
import { openStore } from '../src/store/database.ts';
import { CaseSkipped, type BenchCase, type CaseKind, type Variant } from './cases/types.ts';
import type { BenchOptions } from './options.ts';
import type { LoadResult } from './load/job.ts';
import { dataPayload } from './load/message.ts';
import { SmtpWire } from '../test/support/smtp-wire.ts';
import { CLI, startService } from '../test/support/cli.ts';
import { onCleanup } from './cleanup.ts';
import { StoreUnavailable, createBenchDatabase, type BenchDatabase } from './stores.ts';
import { startWireMx } from './servers/wire-mx.ts';
import { probeWindow, serverProbe, type ServerProbe } from './tools/server-probe.ts';

const SENDER = 'owner@bench-sender.example';
const DELIVERY_TIMEOUT_MS = 10 * 60_000;

export const multinode: CaseKind = {
  name: 'multinode',
  description: 'end to end (SMTP in, DKIM, delivery to a loopback MX): SQLite with 1 node, PostgreSQL with 1 and with 2 nodes (smtp+delivery each)',
  plan(variant: Variant, options: BenchOptions): BenchCase[] {
    // One size, no TLS: the question is the pipeline's throughput and the cost of a second node, not of bytes or TLS.
    if (variant.size !== Math.min(...options.sizes) || variant.tls !== 'plain' || variant.sessions !== 'reused') return [];
    const runs: Array<{ engine: 'sqlite' | 'postgres'; nodes: number }> = [];
    if (options.stores.includes('sqlite')) runs.push({ engine: 'sqlite', nodes: 1 });
    if (options.stores.includes('postgres')) runs.push({ engine: 'postgres', nodes: 1 }, { engine: 'postgres', nodes: 2 });
    return runs.map(({ engine, nodes }): BenchCase => ({
      kind: `e2e-${nodes}-node${nodes > 1 ? 's' : ''}`, store: engine, size: variant.size, tls: 'plain', sessions: 'reused', connections: options.connections,
      run: () => endToEnd(engine, nodes, variant.size, options),
    }));
  },
};

async function endToEnd(engine: 'sqlite' | 'postgres', nodeCount: number, size: number, options: BenchOptions): Promise<LoadResult> {
  const database = await createBenchDatabase(engine).catch((error: unknown) => {
    throw error instanceof StoreUnavailable ? new CaseSkipped(error.message) : error;
  });
  try {
    return await endToEndOn(database, nodeCount, size, options);
  } finally {
    await database.drop();
  }
}

/** The end-to-end run on a database made by the caller (the flat-cost case runs it on a pre-filled store). */
export async function endToEndOn(database: BenchDatabase, nodeCount: number, size: number, options: BenchOptions, env: Record<string, string> = {}, entry: string[] = [CLI, 'start']): Promise<LoadResult> {
  const sink = await startSink();
  const nodes: Node[] = [];
  const probe = serverProbe(database.dataDir, database.url);
  try {
    const secret = await createSender(database.url);
    for (let i = 0; i < nodeCount; i++) nodes.push(await startNode(i, database.url, join(database.dataDir, `node-${i}`), sink.port, env, probe, entry));
    const client = await Client.connect(nodes.map((n) => n.port), options.connections, secret, size, sink);
    try {
      await client.send(Math.round(300 * options.warmupSeconds));
      const window = probeWindow(probe, nodes.map((n) => n.pid), database.url.startsWith('postgres'));
      await window.open();
      const before = { nodes: nodes.map((n) => n.cpuMicros()), threads: nodes.map((n) => n.threadMicros()), client: process.cpuUsage(), machine: machineBusyMicros(), at: performance.now() };
      const measured = await client.send(Math.round(600 * options.seconds));
      const elapsedMs = performance.now() - before.at;
      const figures = (await window.close())(measured.count);
      const share = (micros: number) => (100 * micros) / (elapsedMs * 1000);
      const server = share(nodes.reduce((sum, n, i) => sum + n.cpuMicros() - before.nodes[i], 0));
      const clientUsage = process.cpuUsage(before.client);
      const clientCpu = share(clientUsage.user + clientUsage.system);
      console.log(`    ${nodeCount} node(s): all ${measured.count} accepted after ${(measured.acceptedMs / 1000).toFixed(1)} s `
        + `(${Math.round(measured.count / (measured.acceptedMs / 1000))} msgs/s), all delivered after ${(elapsedMs / 1000).toFixed(1)} s`
        + `${measured.slowestPace === null ? '' : ` (delivered/accepted never below ${(measured.slowestPace * 100).toFixed(0)}%)`}; `
        + `cpu per node ${nodes.map((n, i) => `${share(n.cpuMicros() - before.nodes[i]).toFixed(0)}%`).join(', ')}`);
      nodes.forEach((n, i) => console.log(`      node ${i} threads: ${threadShares(before.threads[i], n.threadMicros(), share)}`));
      return {
        connected: client.connected, messages: measured.count, seconds: elapsedMs / 1000, perSecond: measured.count / (elapsedMs / 1000),
        p50Ms: measured.latency.percentile(50) / 1000, p99Ms: measured.latency.percentile(99) / 1000, maxMs: measured.latency.max / 1000,
        errors: measured.errors, firstError: measured.firstError, clientCpu, serverCpu: server,
        acceptedPerSecond: measured.count / (measured.acceptedMs / 1000),
        slowestDeliveryPace: measured.slowestPace ?? undefined,
        // The PostgreSQL server is part of "other" here, as in the acceptance rows.
        otherCpu: Math.max(0, share(machineBusyMicros() - before.machine) - server - clientCpu),
        ...figures,
      };
    } finally {
      client.close();
    }
  } finally {
    for (const node of nodes) await node.stop();
    await sink.close();
  }
}

async function createSender(databaseUrl: string): Promise<string> {
  const store = await openStore(databaseUrl);
  try {
    // Limits are not what is measured: the daily limit is set far out of reach.
    const created = await createAccount(store, { email: SENDER, dailyLimit: 1_000_000_000 });
    await addDomain(store, created.account.id, 'bench-sender.example', 'mailroom.bench');
    await forceVerifyDomain(store, await getDomainRow(store, 'bench-sender.example', null));
    return created.key.secret;
  } finally {
    await store.close();
  }
}

interface Node {
  pid: number;
  port: number;
  cpuMicros(): number;
  /** CPU time per thread name (main thread, queue writer, signers, V8's GC helpers). */
  threadMicros(): Map<string, number>;
  stop(): Promise<void>;
}

async function startNode(index: number, databaseUrl: string, dataDir: string, sinkPort: number, env: Record<string, string>, probe: ServerProbe, entry: string[]): Promise<Node> {
  let ready = false;
  const service = await startService({
    ...process.env, MAILROOM_DATABASE_URL: databaseUrl, MAILROOM_DATA_DIR: dataDir, MAILROOM_NODE_ID: `bench-node-${index}`,
    MAILROOM_HOSTNAME: 'mailroom.bench', MAILROOM_ROLES: 'smtp,delivery', MAILROOM_SMTP_HOST: '127.0.0.1', MAILROOM_SMTP_PORT: '0',
    MAILROOM_SMTPS_PORT: 'off', MAILROOM_HTTP_PORT: 'off', MAILROOM_RELAY_HOST: `127.0.0.1:${sinkPort}`, MAILROOM_LOG_LEVEL: 'silent',
    MAILROOM_SHUTDOWN_TIMEOUT: '2s', ...probe.env, ...env,
  }, {
    execArgv: probe.execArgv,
    entry,
    // Whatever it says once running (warnings, errors) still reaches the person running the bench.
    onLine: (line) => { if (ready) process.stderr.write(`${line}\n`); },
  }).catch((error: Error) => { throw new Error(`node ${index}: ${error.message}`); });
  ready = true;
  const { child } = service;
  const forget = onCleanup(() => { child.kill('SIGKILL'); });
  const stop = () => new Promise<void>((resolve) => {
    forget();
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGTERM');
  });
  return { pid: child.pid!, port: service.submissionPort, cpuMicros: () => processCpuMicros(child), threadMicros: () => threadCpuMicros(child), stop };
}

/** utime + stime of a child, from /proc (Linux; clock ticks of 10 ms). */
function processCpuMicros(child: ChildProcess): number {
  try {
    const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return NaN;
  }
}

/** utime + stime of each thread of a child, summed by thread name (Linux). */
function threadCpuMicros(child: ChildProcess): Map<string, number> {
  const byName = new Map<string, number>();
  try {
    for (const task of readdirSync(`/proc/${child.pid}/task`)) {
      const name = readFileSync(`/proc/${child.pid}/task/${task}/comm`, 'utf8').trim();
      const fields = readFileSync(`/proc/${child.pid}/task/${task}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      byName.set(name, (byName.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) * 10_000);
    }
  } catch {
    // The process ended: no breakdown.
  }
  return byName;
}

function threadShares(before: Map<string, number>, after: Map<string, number>, share: (micros: number) => number): string {
  return [...after].map(([name, micros]) => [name, share(micros - (before.get(name) ?? 0))] as const)
    .filter(([, percent]) => percent >= 1).sort((a, b) => b[1] - a[1])
    .map(([name, percent]) => `${name} ${percent.toFixed(0)}%`).join(', ');
}

function machineBusyMicros(): number {
  return cpus().reduce((sum, cpu) => sum + (cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq) * 1000, 0);
}

interface Round {
  count: number;
  acceptedMs: number;
  /** The lowest share of the messages accepted so far that had also arrived, taken at each whole second of submitting. */
  slowestPace: number | null;
  latency: ReturnType<typeof createHistogram>;
  errors: number;
  firstError: string | null;
}

/** Persistent authenticated connections, spread evenly over the nodes, each pipelining MAIL, RCPT and DATA. */
class Client {
  #wires: SmtpWire[];
  #size: number;
  #sink: Sink;
  #nextSeq = 0;

  private constructor(wires: SmtpWire[], size: number, sink: Sink) {
    this.#wires = wires;
    this.#size = size;
    this.#sink = sink;
  }

  static async connect(ports: number[], connections: number, secret: string, size: number, sink: Sink): Promise<Client> {
    const wires = await Promise.all(Array.from({ length: connections }, async (_, i) => {
      const wire = await SmtpWire.connect('127.0.0.1', ports[i % ports.length]);
      for (const [line, code] of [[null, 220], ['EHLO bench.client', 250], [`AUTH PLAIN ${Buffer.from(`\0${SENDER}\0${secret}`).toString('base64')}`, 235]] as const) {
        if (line) wire.write(`${line}\r\n`);
        const reply = await wire.read();
        if (reply.code !== code) throw new Error(`${line ?? 'greeting'}: ${reply.code} ${reply.text}`);
      }
      return wire;
    }));
    return new Client(wires, size, sink);
  }

  get connected(): number {
    return this.#wires.length;
  }

  /** Submits `count` messages and resolves once every accepted one has arrived at the sink. */
  async send(count: number): Promise<Round> {
    const round: Round = { count: 0, acceptedMs: 0, slowestPace: null, latency: createHistogram({ lowest: 1, highest: 600_000_000, figures: 3 }), errors: 0, firstError: null };
    const first = this.#nextSeq;
    const last = first + count;
    const started = performance.now();
    const sentAt = new Map<number, number>();
    const acceptedAt: number[] = [];
    const arrivedAt: number[] = [];
    const arrived = this.#sink.expect((seq, at) => {
      const from = sentAt.get(seq);
      if (from === undefined) return;
      round.latency.record(Math.max(1, Math.round((at - from) * 1000)));
      arrivedAt.push(at);
    });
    await Promise.all(this.#wires.map(async (wire) => {
      for (let seq = this.#nextSeq++; seq < last; seq = this.#nextSeq++) {
        sentAt.set(seq, performance.now());
        wire.write(`MAIL FROM:<${SENDER}>\r\nRCPT TO:<rcpt${seq % 1000}@recipient.example>\r\nDATA\r\n`);
        const replies = [await wire.read(), await wire.read(), await wire.read()];
        let final = replies[2];
        if (final.code === 354) {
          wire.write(Buffer.concat([Buffer.from(`X-Bench-Seq: ${seq}\r\n`), this.#payload()]));
          final = await wire.read();
        } else {
          wire.write('RSET\r\n');
          await wire.read();
        }
        if (final.code === 250) {
          round.count++;
          acceptedAt.push(performance.now());
        } else {
          sentAt.delete(seq);
          round.errors++;
          round.firstError ??= `${final.code} ${final.text}`;
        }
      }
    }));
    this.#nextSeq = last;
    round.acceptedMs = performance.now() - started;
    round.slowestPace = slowestPace(started, round.acceptedMs, acceptedAt, arrivedAt);
    const missing = await arrived.all(new Set(sentAt.keys()), DELIVERY_TIMEOUT_MS);
    if (missing > 0) {
      round.errors += missing;
      round.firstError ??= `${missing} accepted messages not delivered within ${DELIVERY_TIMEOUT_MS / 60_000} min`;
    }
    return round;
  }

  #payloadCache: Buffer | null = null;
  #payload(): Buffer {
    this.#payloadCache ??= dataPayload({ from: SENDER, to: 'rcpt@recipient.example', size: this.#size });
    return this.#payloadCache;
  }

  close(): void {
    for (const wire of this.#wires) wire.close();
  }
}

/**
 * How well delivery kept pace with acceptance while mail was being submitted: at each whole
 * second, the messages arrived so far over the messages accepted so far; the lowest of these.
 * (Arrival times are pushed in order, acceptance times nearly so: counting with a filter is exact.)
 */
function slowestPace(started: number, acceptedMs: number, acceptedAt: readonly number[], arrivedAt: readonly number[]): number | null {
  let lowest: number | null = null;
  for (let second = 1; second * 1000 <= acceptedMs; second++) {
    const until = started + second * 1000;
    const accepted = acceptedAt.filter((at) => at <= until).length;
    if (accepted === 0) continue;
    const delivered = arrivedAt.filter((at) => at <= until).length;
    lowest = Math.min(lowest ?? 1, delivered / accepted);
  }
  return lowest;
}

interface Sink {
  port: number;
  /** Starts counting arrivals; `all` resolves with how many of `seqs` did not arrive in time. */
  expect(onArrival: (seq: number, at: number) => void): { all(seqs: Set<number>, timeoutMs: number): Promise<number> };
  close(): Promise<void>;
}

/** A sink that accepts everything and tells which bench sequence numbers arrived. */
async function startSink(): Promise<Sink> {
  let listener: ((seq: number, at: number) => void) | null = null;
  const seen = new Set<number>();
  const mx = await startWireMx('sink.bench', (message) => {
    const seq = /^X-Bench-Seq: (\d+)/m.exec(message.slice(0, 4096))?.[1];
    if (seq !== undefined && !seen.has(Number(seq))) {
      seen.add(Number(seq));
      listener?.(Number(seq), performance.now());
    }
    return { accept: true };
  });
  return {
    port: mx.port,
    expect(onArrival) {
      let waiting: (() => void) | null = null;
      listener = (seq, at) => { onArrival(seq, at); waiting?.(); };
      return {
        all: (seqs, timeoutMs) => new Promise<number>((resolve) => {
          const count = () => [...seqs].filter((seq) => !seen.has(seq)).length;
          const timer = setTimeout(() => finish(), timeoutMs);
          let pending = count();
          const finish = () => { clearTimeout(timer); listener = null; resolve(count()); };
          waiting = () => { if (--pending <= 0 && count() === 0) finish(); };
          if (pending === 0) finish();
        }),
      };
    },
    close: () => mx.close(),
  };
}
