/**
 * Runs the real `mailroom` CLI as a child process, as an operator would: the
 * same entry point, configuration only through MAILROOM_* variables.
 *
 * Everything here is asynchronous on purpose: a child often talks to servers
 * (loopback DNS, the store's PostgreSQL) or is talked to by this process, and
 * a synchronous spawn would freeze the event loop those servers run on.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestDatabase } from './stores.ts';

export const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The command, its exit code and everything it printed: a message for failed assertions. */
  output: string;
}

/** The child's environment: ours without any MAILROOM_* leaking in, plus the database and `extra`. */
export function cliEnv(database: Pick<TestDatabase, 'url' | 'dataDir'> | null, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('MAILROOM_')) env[key] = value;
  return {
    ...env,
    // Children compile the same modules over and over; Node's on-disk cache
    // (checked against each file's contents, so never stale) saves a third of that.
    NODE_COMPILE_CACHE: env.NODE_COMPILE_CACHE ?? join(tmpdir(), 'mailroom-test-compile-cache'),
    ...(database ? { MAILROOM_DATABASE_URL: database.url, MAILROOM_DATA_DIR: database.dataDir } : {}),
    MAILROOM_HOSTNAME: 'mailroom.test',
    MAILROOM_LOG_LEVEL: 'warn',
    // Never the default 8025: a command asks the node listening there which store it uses,
    // and on a shared machine that may be anyone's Mailroom.
    MAILROOM_HTTP_PORT: '0',
    ...extra,
  };
}

// Each child spends most of a CPU-second loading modules; more of them at
// once than there are cores only makes every one of them slower.
const MAX_CHILDREN = Math.max(2, availableParallelism());
let running = 0;
const waiting: Array<() => void> = [];

async function withChildSlot<T>(body: () => Promise<T>): Promise<T> {
  if (running >= MAX_CHILDREN) await new Promise<void>((resolve) => waiting.push(resolve));
  else running += 1;
  try {
    return await body();
  } finally {
    // Hand the slot straight to the next in line, or give it back.
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  }
}

/** `mailroom ARGS…`; resolves with the exit code and output, never rejects on a non-zero exit. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<CliResult> {
  return withChildSlot(() => new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(error);
      const code = error ? (error.code as number) : 0;
      resolve({ code, stdout, stderr, output: `mailroom ${args.join(' ')} (exit ${code}):\n${stdout}${stderr}` });
    });
  }));
}

/** `mailroom … --json` whose output must be JSON. */
export async function runCliJson<T = unknown>(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; json: T; stderr: string; output: string }> {
  const result = await runCli([...args, '--json'], env);
  let json: T;
  try {
    json = JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`mailroom ${args.join(' ')} --json printed no JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
  return { code: result.code, json, stderr: result.stderr, output: result.output };
}

export interface RunningService {
  child: ChildProcess;
  /** Listener name (as printed at start-up) → port. */
  ports: Map<string, number>;
  /** The submission (plain, STARTTLS) port; 0 when the node has none. */
  submissionPort: number;
  /** Everything it printed so far; empty when `onLine` takes the output instead. */
  output(): string;
  /** Each stream on its own: stdout carries the log lines, stderr the banner. */
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL if still running (the whole process group when launched through npx), and wait for the exit. */
  kill(): Promise<void>;
}

export interface StartOptions {
  timeoutMs?: number;
  /**
   * `npx`: `npx mailroom start` in a process group of its own, as an operator's
   * shell or a supervisor starts it; `kill()` then kills the whole group (npx,
   * the shell it may spawn, and node). Default: node directly.
   */
  launch?: 'node' | 'npx';
  /** Each line the process writes, on either stream; the output is then not kept here. */
  onLine?(line: string): void;
  /** Node options for the child (launch `node` only), e.g. the bench probe's --import. */
  execArgv?: readonly string[];
  /** What node runs (launch `node` only); default the CLI's `start`. */
  entry?: readonly string[];
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * `mailroom start` as a child process — the one launcher of the suites and
 * the bench — resolved once it prints where each listener is (ports 0 in the
 * environment become real ports in that output).
 */
export function startService(env: NodeJS.ProcessEnv, options: StartOptions = {}): Promise<RunningService> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const group = options.launch === 'npx';
  const child = group
    ? spawn('npx', ['--no-install', 'mailroom', 'start'], {
      cwd: ROOT, env: { ...env, PATH: `${dirname(process.execPath)}:${env.PATH ?? ''}` }, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
    })
    : spawn(process.execPath, [...(options.execArgv ?? []), ...(options.entry ?? [CLI, 'start'])], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const kill = async () => {
    if (group) {
      // The group outlives its leader's exit (node may still run under a dead npx).
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
    } else if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  return new Promise((resolve, reject) => {
    let ready = false;
    let banner = '';
    const timer = setTimeout(() => {
      void kill();
      reject(new Error(`mailroom start did not come up within ${timeoutMs}ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    // The banner is one write on stderr (stdout carries only log lines): the header, then a line per
    // listener (none on a delivery-only node). Short enough for one pipe write, it arrives whole.
    const tryParse = () => {
      const at = banner.indexOf('Mailroom is running');
      if (ready || at === -1 || !banner.slice(at).endsWith('\n')) return;
      const ports = new Map<string, number>();
      for (const line of banner.slice(at).split('\n').slice(1)) {
        const match = /^ {2}(.+?)\s+[\d.:a-f]+:(\d+)$/.exec(line);
        if (!match) break;
        ports.set(match[1], Number(match[2]));
      }
      ready = true;
      clearTimeout(timer);
      const submission = [...ports].find(([name]) => name.startsWith('submission (plain'));
      resolve({ child, ports, submissionPort: submission?.[1] ?? 0, output: () => stdout + stderr, stdout: () => stdout, stderr: () => stderr, exited, kill });
    };
    const lines = (each: (line: string) => void) => {
      let partial = '';
      return (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) each(line);
      };
    };
    const onLine = options.onLine;
    child.stdout!.setEncoding('utf8').on('data', onLine ? lines(onLine) : (chunk: string) => { stdout += chunk; });
    const stderrLines = onLine ? lines(onLine) : null;
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderrLines) stderrLines(chunk);
      else stderr += chunk;
      if (!ready) banner += chunk;
      tryParse();
    });
    exited.then(({ code, signal }) => {
      if (ready) return;
      clearTimeout(timer);
      reject(new Error(`mailroom start exited (code ${code}, signal ${signal}) before it was ready:\n${stdout}\n${stderr}`));
    });
  });
}
