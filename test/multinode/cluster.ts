/**
 * Real Mailroom processes for multi-node tests: each node is `mailroom start`
 * in a child process of its own, on a shared PostgreSQL schema, with every
 * listener on 127.0.0.1 port 0. Children are driven only through async APIs
 * (spawn, execFile): the loopback DNS server and MX peers they talk to run on
 * this test's event loop and must keep answering.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { POSTGRES_URL } from '../support/stores.ts';
import { startService, type RunningService } from '../support/cli.ts';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const START_TIMEOUT_MS = 60_000;
const KEPT_LOG_LINES = 200;

export interface NodeOptions {
  /** Shown in failures; also the MAILROOM_NODE_ID unless `nodeId` is null (then Mailroom derives one). */
  name: string;
  nodeId?: string | null;
  roles: string;
  databaseUrl: string;
  /** Reuse a data directory (a restarted node); default: a fresh one, removed when the node is forgotten. */
  dataDir?: string;
  env?: Record<string, string>;
}

export interface MailroomNode {
  readonly name: string;
  /** The node id the process announced. */
  readonly id: string;
  readonly pid: number;
  readonly dataDir: string;
  readonly options: NodeOptions;
  /** Listener name prefix ('submission (plain', 'http', 'mx') → port. */
  port(prefix: string): number;
  /** The last lines the process wrote (logs and banner), for failure messages. */
  log(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): Promise<void>;
  /** SIGTERM (graceful), SIGKILL if it does not exit in time. */
  stop(): Promise<void>;
}

/** The environment every test node shares: loopback only, quiet but with warnings kept for failure reports. */
export function baseEnv(databaseUrl: string): Record<string, string> {
  return {
    MAILROOM_DATABASE_URL: databaseUrl,
    MAILROOM_HOSTNAME: 'mailroom.test',
    MAILROOM_SMTP_HOST: '127.0.0.1',
    MAILROOM_HTTP_HOST: '127.0.0.1',
    MAILROOM_SMTP_PORT: '0',
    MAILROOM_SMTPS_PORT: 'off',
    MAILROOM_HTTP_PORT: '0',
    MAILROOM_SHUTDOWN_TIMEOUT: '2s',
    MAILROOM_LOG_LEVEL: process.env.MAILROOM_TEST_NODE_LOG_LEVEL ?? 'warn',
  };
}

export async function startNode(options: NodeOptions): Promise<MailroomNode> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), `mailroom-${options.name}-`));
  const env: Record<string, string> = {
    ...withoutMailroomVariables(process.env), ...baseEnv(options.databaseUrl),
    MAILROOM_DATA_DIR: dataDir, MAILROOM_ROLES: options.roles, ...options.env,
  };
  if (options.nodeId !== null) env.MAILROOM_NODE_ID = options.nodeId ?? options.name;
  // MAILROOM_TEST_NODE_LOGS=DIR keeps every node's whole output, for a failure that the last lines do not explain.
  const logDir = process.env.MAILROOM_TEST_NODE_LOGS;
  const logFile = logDir ? createWriteStream(join(logDir, `${options.name}-${Date.now()}.log`)) : null;
  const lines: string[] = [];
  let id = '';
  const keep = (line: string) => {
    logFile?.write(`${line}\n`);
    lines.push(line);
    if (lines.length > KEPT_LOG_LINES) lines.shift();
    id ||= /^Mailroom is running \(node (\S+), \w+ store\)/.exec(line)?.[1] ?? '';
  };
  let service: RunningService;
  try {
    service = await startService(env, { timeoutMs: START_TIMEOUT_MS, onLine: keep });
  } catch (error) {
    throw new Error(`node ${options.name}: ${(error as Error).message.split('\n')[0]}\n--- ${options.name} output ---\n${lines.join('\n')}`);
  }
  const { child, ports, exited } = service;
  return {
    name: options.name, options, dataDir,
    get id() { return id; },
    get pid() { return child.pid!; },
    port(prefix) {
      for (const [name, port] of ports) if (name.startsWith(prefix)) return port;
      throw new Error(`node ${options.name} has no listener named ${prefix}…: ${[...ports.keys()].join(', ')}`);
    },
    log: () => lines.join('\n'),
    exited,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timeout = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timeout);
    },
  };
}

/** Removes a node's data directory (after it stopped). */
export function forgetNode(node: MailroomNode): void {
  rmSync(node.dataDir, { recursive: true, force: true });
}

/** Runs a `mailroom` CLI command against the same store, asynchronously. */
export function mailroomCli(args: string[], databaseUrl: string): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...withoutMailroomVariables(process.env), MAILROOM_DATABASE_URL: databaseUrl, MAILROOM_LOG_LEVEL: 'warn' } },
      (error, stdout, stderr) => resolve({ stdout, stderr, code: error ? Number((error as { code?: number }).code ?? 1) : 0 }));
  });
}

/**
 * Why the multi-node suites cannot run here, or false. They are PostgreSQL
 * only (several processes on one store); CI never skips. Decided once, at
 * declaration time, before any server of the test runs (the probe is sync).
 */
export function postgresSkipReason(): string | false {
  if (process.env.CI === 'true') return false;
  const { hostname, port } = new URL(POSTGRES_URL.replace(/^postgres(ql)?:/, 'http:'));
  const probe = `const s=require('net').connect(${Number(port) || 5432},${JSON.stringify(hostname || '127.0.0.1')});`
    + `s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(1));setTimeout(()=>process.exit(1),2000)`;
  const { status } = spawnSync(process.execPath, ['-e', probe]);
  return status === 0 ? false : `multi-node tests need PostgreSQL, not reachable at ${POSTGRES_URL} (set MAILROOM_TEST_POSTGRES_URL; CI never skips)`;
}

/** A test's own MAILROOM_* settings must not leak into the nodes it starts. */
function withoutMailroomVariables(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined && !key.startsWith('MAILROOM_')) out[key] = value;
  return out;
}
