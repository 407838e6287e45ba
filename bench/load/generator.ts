/**
 * The load generator, run as its own process (see run-load.ts) so it never
 * competes with the server for an event loop: N persistent connections, each
 * EHLO (+ STARTTLS + EHLO), AUTH PLAIN, then one message after another; or
 * (sessionPerMessage) N clients that each open a new session per message.
 *
 * Per message MAIL FROM, RCPT TO and DATA go out in one write (RFC 2920 lets
 * DATA end a pipelined group); the body follows only after the 354. Latency
 * runs from that write to the 250 after the final dot.
 */
import { createHistogram } from 'node:perf_hooks';
import { SmtpWire, type Reply } from '../../test/support/smtp-wire.ts';
import { dataPayload } from './message.ts';
import type { LoadJob, LoadResult, WindowMark } from './job.ts';

class Tally {
  readonly histogram = createHistogram({ lowest: 1, highest: 600_000_000, figures: 3 });
  messages = 0;
  errors = 0;
  firstError: string | null = null;
  measureFrom = Infinity;
  measureUntil = Infinity;
  cpuMicros = 0;
  tlsHandshakes = 0;
  tlsKeyType: string | null = null;
  tlsResumed = 0;

  completed(startedAt: number, endedAt: number): void {
    if (endedAt < this.measureFrom || endedAt >= this.measureUntil) return;
    this.messages += 1;
    this.histogram.record(Math.max(1, Math.round((endedAt - startedAt) * 1000)));
  }

  failed(what: string): void {
    this.errors += 1;
    this.firstError ??= what;
  }
}

class ReplyError extends Error {}

function expect(reply: Reply, code: number, command: string): Reply {
  if (reply.code !== code) throw new ReplyError(`${command}: expected ${code}, got ${reply.code} ${reply.text}`);
  return reply;
}

async function command(wire: SmtpWire, line: string, code: number): Promise<Reply> {
  wire.write(line + '\r\n');
  return expect(await wire.read(), code, line.split(' ')[0]);
}

/** A client's TLS session ticket, kept from one connection to the next when the job resumes sessions. */
interface TicketHolder { ticket?: Buffer }

/** Greeting to authenticated; returns whether the server offers PIPELINING. */
async function openSession(wire: SmtpWire, job: LoadJob, tally: Tally, holder: TicketHolder = {}): Promise<boolean> {
  expect(await wire.read(), 220, 'greeting');
  let ehlo = await command(wire, 'EHLO bench.client', 250);
  if (job.tls === 'starttls') {
    if (!/^STARTTLS\b/m.test(ehlo.text)) throw new ReplyError('server does not offer STARTTLS');
    await command(wire, 'STARTTLS', 220);
    const resumed = await wire.startTls(job.tlsResume ? { session: holder.ticket, onTicket: (ticket) => { holder.ticket = ticket; } } : {});
    tally.tlsHandshakes += 1;
    tally.tlsKeyType ??= wire.tlsKeyType;
    if (resumed) tally.tlsResumed += 1;
    ehlo = await command(wire, 'EHLO bench.client', 250);
  }
  const credentials = Buffer.from(`\0${job.target.user}\0${job.target.password}`).toString('base64');
  await command(wire, `AUTH PLAIN ${credentials}`, 235);
  return /^PIPELINING\b/m.test(ehlo.text);
}

/** One transaction; true when the 250 after the dot came (errors are tallied here). */
async function sendOne(wire: SmtpWire, pipelining: boolean, job: LoadJob, payload: Buffer, tally: Tally): Promise<boolean> {
  const mail = `MAIL FROM:<${job.target.mailFrom}>\r\n`;
  const rcpt = `RCPT TO:<${job.target.rcptTo}>\r\n`;
  let replies: Reply[];
  if (pipelining) {
    wire.write(mail + rcpt + 'DATA\r\n');
    replies = [await wire.read(), await wire.read(), await wire.read()];
  } else {
    wire.write(mail);
    replies = [await wire.read()];
    if (replies[0].code === 250) { wire.write(rcpt); replies.push(await wire.read()); }
    if (replies[1]?.code === 250) { wire.write('DATA\r\n'); replies.push(await wire.read()); }
  }
  if (replies[2]?.code !== 354) {
    const refused = replies.find((reply) => reply.code >= 400) ?? replies[replies.length - 1];
    tally.failed(`envelope refused: ${refused.code} ${refused.text}`);
    await command(wire, 'RSET', 250);
    // A server refusing everything must not turn the loop into a spin.
    await new Promise((resolve) => setTimeout(resolve, 10));
    return false;
  }
  wire.write(payload);
  const final = await wire.read();
  if (final.code === 250) return true;
  tally.failed(`message refused: ${final.code} ${final.text}`);
  return false;
}

async function sendMessages(wire: SmtpWire, pipelining: boolean, job: LoadJob, payload: Buffer, tally: Tally): Promise<void> {
  while (performance.now() < tally.measureUntil) {
    const startedAt = performance.now();
    if (await sendOne(wire, pipelining, job, payload, tally)) tally.completed(startedAt, performance.now());
  }
}

async function quit(wire: SmtpWire): Promise<void> {
  wire.write('QUIT\r\n');
  await Promise.race([wire.read().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 1000))]);
}

async function runConnection(job: LoadJob, payload: Buffer, tally: Tally, started: Promise<void>, onReady: () => void): Promise<boolean> {
  let wire: SmtpWire | null = null;
  let readied = false;
  const ready = () => {
    if (!readied) onReady();
    readied = true;
  };
  try {
    wire = await SmtpWire.connect(job.target.host, job.target.port);
    const pipelining = await openSession(wire, job, tally);
    ready();
    await started;
    await sendMessages(wire, pipelining, job, payload, tally);
    await quit(wire);
    return true;
  } catch (error) {
    tally.failed((error as Error).message);
    ready();
    return false;
  } finally {
    wire?.close();
  }
}

/**
 * A session per message, the way Gmail's "Send mail as" and most mail libraries submit:
 * connect, EHLO, [STARTTLS, EHLO], AUTH, one message, QUIT, again. Latency is the whole
 * session, from connect to the 250 after the dot.
 */
async function runSessionPerMessage(job: LoadJob, payload: Buffer, tally: Tally, started: Promise<void>, onReady: () => void): Promise<boolean> {
  onReady();
  await started;
  let sent = false;
  const holder: TicketHolder = {};
  while (performance.now() < tally.measureUntil) {
    const startedAt = performance.now();
    let wire: SmtpWire | null = null;
    try {
      wire = await SmtpWire.connect(job.target.host, job.target.port);
      const pipelining = await openSession(wire, job, tally, holder);
      if (await sendOne(wire, pipelining, job, payload, tally)) {
        tally.completed(startedAt, performance.now());
        sent = true;
      }
      await quit(wire);
    } catch (error) {
      tally.failed((error as Error).message);
      await new Promise((resolve) => setTimeout(resolve, 10));
    } finally {
      wire?.close();
    }
  }
  return sent;
}

/** Samples this process's CPU over the window and tells the parent when it opens and closes. */
function watchWindow(tally: Tally): void {
  let before: NodeJS.CpuUsage;
  setTimeout(() => {
    before = process.cpuUsage();
    process.send?.({ mark: 'open' } satisfies WindowMark);
    setTimeout(() => {
      const used = process.cpuUsage(before);
      tally.cpuMicros = used.user + used.system;
      process.send?.({ mark: 'close' } satisfies WindowMark);
    }, tally.measureUntil - performance.now());
  }, tally.measureFrom - performance.now());
}

export async function runLoad(job: LoadJob): Promise<LoadResult> {
  const payload = dataPayload({ from: job.target.mailFrom, to: job.target.rcptTo, size: job.size });
  const tally = new Tally();
  let open!: () => void;
  const started = new Promise<void>((resolve) => { open = resolve; });
  let pending = job.connections;
  // Every connection is logged in before the clock starts, so handshakes are not measured.
  const ready = () => {
    pending -= 1;
    if (pending > 0) return;
    const now = performance.now();
    tally.measureFrom = now + job.warmupMs;
    tally.measureUntil = tally.measureFrom + job.measureMs;
    watchWindow(tally);
    open();
  };
  const client = job.sessionPerMessage ? runSessionPerMessage : runConnection;
  const outcomes = await Promise.all(Array.from({ length: job.connections }, () => client(job, payload, tally, started, ready)));
  const seconds = job.measureMs / 1000;
  const percentile = (p: number) => (tally.messages > 0 ? tally.histogram.percentile(p) / 1000 : NaN);
  return {
    connected: outcomes.filter(Boolean).length,
    messages: tally.messages,
    seconds,
    perSecond: tally.messages / seconds,
    p50Ms: percentile(50),
    p99Ms: percentile(99),
    maxMs: tally.messages > 0 ? tally.histogram.max / 1000 : NaN,
    errors: tally.errors,
    firstError: tally.firstError,
    tlsHandshakes: tally.tlsHandshakes,
    tlsResumed: tally.tlsResumed,
    tlsKeyType: tally.tlsKeyType,
    clientCpu: (100 * tally.cpuMicros) / (job.measureMs * 1000),
    serverCpu: NaN,
    otherCpu: NaN,
  };
}

// Run as a child process: one job in, one result out.
if (process.send) {
  process.once('message', (job: LoadJob) => {
    runLoad(job).then(
      (result) => process.send!({ ok: true, result }, () => process.exit(0)),
      (error: Error) => process.send!({ ok: false, error: error.stack ?? error.message }, () => process.exit(1)),
    );
  });
  process.once('disconnect', () => process.exit(1));
}
