/**
 * Where one session's wall time goes: starts Mailroom (servers/mailroom.ts)
 * or the bare sink on a fresh store and times every step of sessions opened
 * one after another (connect, greeting, EHLO, STARTTLS + handshake, EHLO,
 * AUTH, MAIL/RCPT/DATA, the message, QUIT), optionally while background
 * clients open sessions of their own, so queueing shows too.
 *
 *   node bench/tools/session-steps.ts [--store sqlite|postgres|sink] [--tls] [--sessions 200] [--background 0]
 *
 * Prints p50 / p99 / max per step in ms. A fixed wait shows as a step whose
 * p50 does not move with load (smtp-server's 100 ms greeting delay did).
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { forkServer } from '../servers/fork-server.ts';
import { serverEnv } from '../servers/env.ts';
import { createBenchDatabase, makeTempDir } from '../stores.ts';
import { cleanupAll } from '../cleanup.ts';
import { SmtpWire } from '../../test/support/smtp-wire.ts';
import { dataPayload } from '../load/message.ts';
import { runLoadInChild } from '../load/run-load.ts';
import type { LoadTarget } from '../load/job.ts';

const { values } = parseArgs({
  options: {
    store: { type: 'string', default: 'sqlite' },
    tls: { type: 'boolean', default: false },
    sessions: { type: 'string', default: '200' },
    background: { type: 'string', default: '0' },
  },
});
const store = values.store as 'sqlite' | 'postgres' | 'sink';
const sessions = Number(values.sessions);
const background = Number(values.background);

const steps = new Map<string, RecordableHistogram>();
function record(step: string, ms: number): void {
  let histogram = steps.get(step);
  if (!histogram) steps.set(step, histogram = createHistogram({ lowest: 1, highest: 60_000_000, figures: 3 }));
  histogram.record(Math.max(1, Math.round(ms * 1000)));
}

async function timedSession(target: LoadTarget, payload: Buffer): Promise<void> {
  let last = performance.now();
  const started = last;
  const lap = (step: string) => {
    const now = performance.now();
    record(step, now - last);
    last = now;
  };
  const wire = await SmtpWire.connect(target.host, target.port);
  try {
    lap('connect');
    await wire.read(); lap('greeting (220)');
    wire.write('EHLO steps.client\r\n'); await wire.read(); lap('EHLO');
    if (values.tls) {
      wire.write('STARTTLS\r\n'); await wire.read(); lap('STARTTLS (220)');
      await wire.startTls(); lap('TLS handshake');
      wire.write('EHLO steps.client\r\n'); await wire.read(); lap('EHLO after TLS');
    }
    wire.write(`AUTH PLAIN ${Buffer.from(`\0${target.user}\0${target.password}`).toString('base64')}\r\n`);
    const auth = await wire.read(); lap('AUTH (235)');
    if (auth.code !== 235) throw new Error(`AUTH: ${auth.code} ${auth.text}`);
    wire.write(`MAIL FROM:<${target.mailFrom}>\r\nRCPT TO:<${target.rcptTo}>\r\nDATA\r\n`);
    await wire.read(); await wire.read(); await wire.read(); lap('MAIL+RCPT+DATA (354)');
    wire.write(payload);
    const done = await wire.read(); lap('message (250)');
    if (done.code !== 250) throw new Error(`message: ${done.code} ${done.text}`);
    record('whole session to 250', performance.now() - started);
    wire.write('QUIT\r\n'); await wire.read(); lap('QUIT (221)');
  } finally {
    wire.close();
  }
}

const database = store === 'sink' ? null : await createBenchDatabase(store);
const sinkDir = store === 'sink' ? makeTempDir('mailroom-steps-') : null;
const script = fileURLToPath(new URL(store === 'sink' ? '../servers/sink.ts' : '../servers/mailroom.ts', import.meta.url));
const server = await forkServer(script, {
  env: database ? serverEnv(database.dataDir, database.url) : serverEnv(sinkDir!.path, `sqlite:${sinkDir!.path}/unused.db`, { MAILROOM_HOSTNAME: 'sink.bench' }),
  profileDir: null, profileName: 'steps',
});
try {
  const payload = dataPayload({ from: server.target.mailFrom, to: server.target.rcptTo, size: 1024 });
  const load = background > 0
    ? runLoadInChild({ target: server.target, tls: values.tls ? 'starttls' : 'plain', size: 1024, connections: background, warmupMs: 10, measureMs: 60_000, sessionPerMessage: true })
    : null;
  if (load) await new Promise((resolve) => setTimeout(resolve, 1000));
  for (let i = 0; i < sessions; i++) await timedSession(server.target, payload);
  console.log(`${sessions} sessions one after another, ${store}, ${values.tls ? 'STARTTLS' : 'plain'} + AUTH, 1 KB, ${background} background clients opening a session per message`);
  console.log(`${'step'.padEnd(24)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)}`);
  for (const [step, histogram] of steps) {
    const f = (micros: number) => (micros / 1000).toFixed(2).padStart(8);
    console.log(`${step.padEnd(24)} ${f(histogram.percentile(50))} ${f(histogram.percentile(99))} ${f(histogram.max)}`);
  }
} finally {
  await server.stop();
  await database?.drop();
  sinkDir?.remove();
  await cleanupAll();
  process.exit(0);
}
