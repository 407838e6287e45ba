/**
 * The benchmark's flags. Defaults match the issue: 50 connections, 1 KB and
 * 50 KB, both stores, 8 s measured after a 2 s warm-up.
 */
import { parseArgs } from 'node:util';

export type StoreName = 'sqlite' | 'postgres';
export type SessionMode = 'reused' | 'per-message';

export interface BenchOptions {
  connections: number;
  seconds: number;
  warmupSeconds: number;
  /** Message sizes in bytes, in the order given. */
  sizes: number[];
  stores: StoreName[];
  /** Case kinds to run (see cases/index.ts); empty means all. */
  cases: string[];
  /** STARTTLS runs are made for the smallest size only, to keep the run short. */
  starttls: boolean;
  /** Session patterns to run: logged in once (reused) and/or a new session per message. */
  sessions: SessionMode[];
  /** STARTTLS clients resume their previous TLS session (session tickets) instead of a full handshake each time. */
  tlsResume: boolean;
  /** Directory for V8 CPU profiles of every server child, or null. */
  profileDir: string | null;
  /** The flat-cost case's pre-fill as a share of 1,000,000 deferred deliveries and 10,000,000 history rows. */
  flatScale: number;
  /** The memory case: minutes of steady acceptance and delivery, at this many messages per second. */
  memoryMinutes: number;
  memoryRate: number;
  /** The memory case: idle SMTP connections held open, and for how many seconds. */
  idleConnections: number;
  idleSeconds: number;
}

export const USAGE = `npm run bench -- [options]
  --connections N      persistent client connections (default 50)
  --seconds S          measured seconds per case (default 8; --quick: 3)
  --warmup S           warm-up seconds per case, not measured (default 2; --quick: 1)
  --sizes LIST         message sizes, e.g. 1k,50k (default 1k,50k)
  --stores LIST        sqlite,postgres (default both; postgres is skipped if unreachable)
  --cases LIST         case kinds to run: ceiling,acceptance,mixed,multinode,throttled,api-batch,shaping-cost,flat-cost,memory
                       (default all but memory, which takes about 15 min per store)
  --flat-scale F       flat-cost pre-fill as a share of 1M deferred + 10M history rows (default 1; 0.01 for a quick run)
  --memory-minutes M   memory case: minutes of steady acceptance + delivery, RSS per minute (default 10)
  --memory-rate R      memory case: messages per second in that run (default 300, below this machine's capacity)
  --idle-connections N memory case: idle SMTP connections held open against one node (default 10000)
  --idle-seconds S     memory case: how long they are held, below MAILROOM_SMTP_IDLE_TIMEOUT (default 60)
  --no-starttls        skip the STARTTLS runs
  --sessions LIST      reused,per-message (default both): per-message opens a new session
                       (connect, EHLO, [STARTTLS], AUTH) for every message, at the smallest size
  --tls-resume         STARTTLS clients resume their previous TLS session (as Gmail does;
                       nodemailer and most libraries do not): a cheaper handshake on both sides
  --profile DIR        write a V8 CPU profile of each server child into DIR
  --quick              short run: 1 s warm-up, 3 s measured
  --help`;

export function parseOptions(argv: string[]): BenchOptions | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      connections: { type: 'string' },
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      sizes: { type: 'string' },
      stores: { type: 'string' },
      cases: { type: 'string' },
      'no-starttls': { type: 'boolean' },
      sessions: { type: 'string' },
      profile: { type: 'string' },
      'tls-resume': { type: 'boolean' },
      quick: { type: 'boolean' },
      'flat-scale': { type: 'string' },
      'memory-minutes': { type: 'string' },
      'memory-rate': { type: 'string' },
      'idle-connections': { type: 'string' },
      'idle-seconds': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) return null;
  const quick = values.quick ?? false;
  return {
    connections: positive('--connections', values.connections ?? '50'),
    seconds: positive('--seconds', values.seconds ?? (quick ? '3' : '8')),
    warmupSeconds: nonNegative('--warmup', values.warmup ?? (quick ? '1' : '2')),
    sizes: list(values.sizes ?? '1k,50k').map(parseSize),
    stores: list(values.stores ?? 'sqlite,postgres').map(parseStore),
    cases: values.cases ? list(values.cases) : [],
    starttls: !values['no-starttls'],
    sessions: list(values.sessions ?? 'reused,per-message').map(parseSessionMode),
    profileDir: values.profile ?? null,
    tlsResume: values['tls-resume'] ?? false,
    flatScale: positive('--flat-scale', values['flat-scale'] ?? '1'),
    memoryMinutes: positive('--memory-minutes', values['memory-minutes'] ?? '10'),
    memoryRate: positive('--memory-rate', values['memory-rate'] ?? '300'),
    idleConnections: Math.round(positive('--idle-connections', values['idle-connections'] ?? '10000')),
    idleSeconds: positive('--idle-seconds', values['idle-seconds'] ?? '60'),
  };
}

function list(raw: string): string[] {
  return raw.split(',').map((item) => item.trim()).filter((item) => item !== '');
}

function positive(flag: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${flag} must be a positive number, not ${JSON.stringify(raw)}`);
  return value;
}

function nonNegative(flag: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${flag} must be zero or more, not ${JSON.stringify(raw)}`);
  return value;
}

/** `1k` = 1,024 bytes, `50kb` = 51,200, `1m` = 1,048,576, plain digits are bytes. */
export function parseSize(raw: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(k|kb|m|mb|b)?$/i.exec(raw);
  if (!match) throw new Error(`--sizes: ${JSON.stringify(raw)} is not a size such as 1k or 50k`);
  const unit = (match[2] ?? 'b').toLowerCase()[0];
  const bytes = Math.round(Number(match[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 * 1024 : 1));
  if (bytes < 512) throw new Error('--sizes: a message needs at least 512 bytes (headers included)');
  return bytes;
}

export function formatSize(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes} B`;
}

function parseSessionMode(raw: string): SessionMode {
  if (raw !== 'reused' && raw !== 'per-message') throw new Error(`--sessions: ${JSON.stringify(raw)} is not reused or per-message`);
  return raw;
}

function parseStore(raw: string): StoreName {
  if (raw !== 'sqlite' && raw !== 'postgres') throw new Error(`--stores: ${JSON.stringify(raw)} is not sqlite or postgres`);
  return raw;
}
