/**
 * Adaptive shaping against a throttling site: a loopback MX (servers/throttling-mx.ts) answers
 * Gmail's `421 4.7.28` to every message beyond LIMIT per second for THROTTLE_SECONDS, then
 * recovers (no limit). MESSAGES are submitted at once over SMTP to one Mailroom (in this
 * process, smtp + delivery roles, the default retry schedule: 5 minutes before a second
 * attempt), delivering through the MX as its relay host. It prints, second by second, what
 * the MX accepted and refused and the rate Mailroom allowed itself, when the pace settled,
 * and checks that every message arrived with exactly one attempt counted.
 *
 * This is a behaviour, not a speed: the table row's msgs/s is the whole run's average.
 */
import pino from 'pino';
import nodemailer from 'nodemailer';
import { loadConfig } from '../../src/config/load.ts';
import { startMailroom } from '../../src/main.ts';
import { createAccount } from '../../src/accounts/accounts.ts';
import { addDomain, forceVerifyDomain, getDomainRow } from '../../src/domains/domains.ts';
import { readSites } from '../../src/queue/shaping-store.ts';
import { startThrottlingMx } from '../servers/throttling-mx.ts';
import { StoreUnavailable, createBenchDatabase } from '../stores.ts';
import type { BenchOptions, StoreName } from '../options.ts';
import type { LoadResult } from '../load/job.ts';
import { CaseSkipped, type BenchCase, type CaseKind, type Variant } from './types.ts';

const LIMIT = Number(process.env.MAILROOM_BENCH_THROTTLE_LIMIT ?? 20);
const THROTTLE_SECONDS = Number(process.env.MAILROOM_BENCH_THROTTLE_SECONDS ?? 60);
const MESSAGES = Number(process.env.MAILROOM_BENCH_THROTTLE_MESSAGES ?? 1500);
const SITE = '127.0.0.1';
const TIMEOUT_MS = 10 * 60_000;
/** Seconds per window when judging whether the pace settled. */
const WINDOW = 10;

export const throttled: CaseKind = {
  name: 'throttled',
  description: `adaptive shaping: an MX that answers 421 4.7.28 above ${LIMIT} msgs/s for ${THROTTLE_SECONDS} s, then recovers; rate over time, attempts counted`,
  plan(variant: Variant, options: BenchOptions): BenchCase[] {
    if (variant.size !== Math.min(...options.sizes) || variant.tls !== 'plain' || variant.sessions !== 'reused') return [];
    return options.stores.map((store): BenchCase => ({
      kind: 'throttled', store, size: variant.size, tls: 'plain', sessions: 'reused', connections: 10, run: () => throttledRun(store),
    }));
  },
};

interface Second { t: number; accepted: number; refused: number; rate: number | null; concurrency: number }

async function throttledRun(store: StoreName): Promise<LoadResult> {
  const database = await createBenchDatabase(store).catch((error: unknown) => {
    throw error instanceof StoreUnavailable ? new CaseSkipped(error.message) : error;
  });
  const mx = await startThrottlingMx(LIMIT);
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const running = await startMailroom(loadConfig({
    MAILROOM_DATABASE_URL: database.url, MAILROOM_DATA_DIR: database.dataDir, MAILROOM_HOSTNAME: 'mailroom.bench',
    MAILROOM_ROLES: 'smtp,delivery', MAILROOM_SMTP_HOST: '127.0.0.1', MAILROOM_SMTP_PORT: '0', MAILROOM_SMTPS_PORT: '0',
    MAILROOM_RELAY_HOST: `127.0.0.1:${mx.port}`, MAILROOM_LOG_LEVEL: 'silent',
  }), pino({ level: process.env.MAILROOM_BENCH_LOG ?? 'silent' }, pino.destination(2)));
  const timeline: Second[] = [];
  try {
    const created = await createAccount(running.store, { email: 'owner@bench-sender.example', dailyLimit: 1_000_000_000 });
    await addDomain(running.store, created.account.id, 'bench-sender.example', 'mailroom.bench');
    await forceVerifyDomain(running.store, await getDomainRow(running.store, 'bench-sender.example', null));
    const port = running.listeners.find((l) => l.name.startsWith('submission (plain'))!.port;
    const transport = nodemailer.createTransport({
      pool: true, maxConnections: 10, maxMessages: Infinity, host: '127.0.0.1', port, secure: false, ignoreTLS: true,
      auth: { user: 'owner@bench-sender.example', pass: created.key.secret },
    });
    const t0 = Date.now();
    let last = { accepted: 0, refused: 0 };
    const sampler = setInterval(() => {
      const limits = running.shaper!.limits(SITE);
      timeline.push({ t: Math.round((Date.now() - t0) / 1000), accepted: mx.accepted - last.accepted, refused: mx.refused - last.refused, rate: limits.rate, concurrency: limits.concurrency });
      last = { accepted: mx.accepted, refused: mx.refused };
      if (Date.now() - t0 >= THROTTLE_SECONDS * 1000) mx.limit(null);
    }, 1000);
    try {
      await Promise.all(Array.from({ length: MESSAGES }, (_, i) => transport.sendMail({
        from: 'owner@bench-sender.example', to: `user${i}@throttled.example`, subject: `throttled ${i}`, text: 'Hello from the throttled bench.',
      })));
      transport.close();
      const deadline = Date.now() + TIMEOUT_MS;
      // Arrived at the MX, and recorded: the last outcomes are written a moment after the MX's 250.
      const recorded = async () => Number((await running.store.db.selectFrom('deliveries').select((eb) => eb.fn.countAll<number>().as('n'))
        .where('status', '=', 'delivered').executeTakeFirstOrThrow()).n);
      while ((mx.accepted < MESSAGES || await recorded() < MESSAGES) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      clearInterval(sampler);
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);

    const deliveries = await running.store.db.selectFrom('deliveries').select(['status', 'attempt_count']).execute();
    const attemptRows = await running.store.db.selectFrom('attempts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const [site] = await readSites(running.store.db, SITE);
    printTimeline(timeline);
    const settled = settledAfter(timeline);
    const delivered = deliveries.filter((d) => d.status === 'delivered').length;
    const counted = deliveries.reduce((sum, d) => sum + Number(d.attempt_count), 0);
    console.log(`    settled at the site's rate after: ${settled === null ? 'never (within the throttled phase)' : `${settled} s`}; `
      + `throttled-phase average accepted ${average(timeline.filter((s) => s.t <= THROTTLE_SECONDS && s.t > (settled ?? 0)), 'accepted').toFixed(1)} msgs/s (limit ${LIMIT})`);
    console.log(`    ${delivered} of ${MESSAGES} delivered after ${seconds.toFixed(0)} s; refused by the MX ${mx.refused} times; `
      + `attempts counted ${counted} (attempt rows ${Number(attemptRows.n)}); held back (not attempts) ${site?.held ?? 0}; `
      + `last change: ${site?.lastChange ?? 'none'}, learnt rate ${site?.rate ?? '—'} msgs/s`);
    return {
      connected: 10, messages: delivered, seconds, perSecond: delivered / seconds, p50Ms: 0, p99Ms: 0, maxMs: 0,
      errors: MESSAGES - delivered + (counted - delivered), firstError: counted === delivered ? null : `${counted - delivered} extra attempts counted`,
      clientCpu: 0, serverCpu: (100 * (cpu.user + cpu.system)) / (seconds * 1e6), otherCpu: 0,
    };
  } finally {
    await running.stop();
    await mx.close();
    await database.drop();
  }
}

/** Two seconds a line: what the MX took and refused per second, and the rate Mailroom allowed itself. */
function printTimeline(timeline: readonly Second[]): void {
  console.log('      t(s)  accepted/s  refused/s  Mailroom limit (msgs/s, connections)');
  for (let i = 0; i + 1 < timeline.length; i += 2) {
    const [a, b] = [timeline[i], timeline[i + 1]];
    const phase = b.t <= THROTTLE_SECONDS ? '' : '  (site recovered)';
    console.log(`      ${String(b.t).padStart(4)}  ${((a.accepted + b.accepted) / 2).toFixed(1).padStart(10)}  ${((a.refused + b.refused) / 2).toFixed(1).padStart(9)}  `
      + `${b.rate === null ? 'no limit' : b.rate.toFixed(1)}, ${b.concurrency}${phase}`);
  }
}

/**
 * The first second from which, to the end of the throttled phase, every 10-second window had
 * the MX accepting at least half its limit on average while refusing under a tenth of what it
 * took (probing for more, AIMD earns a few refusals now and then).
 */
function settledAfter(timeline: readonly Second[]): number | null {
  const phase = timeline.filter((s) => s.t <= THROTTLE_SECONDS);
  const windowOk = (from: number) => {
    const w = phase.slice(from, from + WINDOW);
    const accepted = w.reduce((sum, s) => sum + s.accepted, 0);
    const refused = w.reduce((sum, s) => sum + s.refused, 0);
    return accepted / w.length >= LIMIT / 2 && refused <= accepted / 10;
  };
  for (let start = 0; start + WINDOW <= phase.length; start++) {
    let ok = true;
    for (let from = start; from + WINDOW <= phase.length && ok; from++) ok = windowOk(from);
    if (ok) return phase[start].t;
  }
  return null;
}

function average(seconds: readonly Second[], key: 'accepted' | 'refused'): number {
  return seconds.length === 0 ? 0 : seconds.reduce((sum, s) => sum + s[key], 0) / seconds.length;
}
