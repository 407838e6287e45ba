/**
 * Mailroom as a child process (`node src/cli/main.ts start`), the way an
 * operator runs it, so a test can SIGKILL or SIGTERM it. Driven only with
 * async child_process APIs: the loopback DNS server and MX peers it talks to
 * run on the test's own event loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { dirname } from 'node:path';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ChildOptions {
  /**
   * `npx`: `npx mailroom start` in a process group of its own, as an operator's
   * shell or a supervisor starts it; `kill()` then kills the whole group
   * (npx, the shell it may spawn, and node). Default: node directly.
   */
  launch?: 'node' | 'npx';
  timeoutMs?: number;
}

export interface ChildMailroom {
  child: ChildProcess;
  submissionPort: number;
  /** Everything it printed so far (stdout and stderr), for failure messages. */
  output(): string;
  /** Resolves when it has exited, with how. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL if still running (the whole process group when launched through npx), and wait for the exit. */
  kill(): Promise<void>;
}

export async function startChildMailroom(env: Record<string, string>, options: ChildOptions = {}): Promise<ChildMailroom> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const group = options.launch === 'npx';
  const childEnv = { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? '/tmp', ...env };
  const child = group
    ? spawn('npx', ['--no-install', 'mailroom', 'start'], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    : spawn(process.execPath, [MAIN, 'start'], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  const running: ChildMailroom = {
    child,
    submissionPort: 0,
    output: () => output,
    exited,
    async kill() {
      if (group) {
        // The group outlives its leader's exit (node may still run under a dead npx).
        try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
      } else if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };

  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const port = /submission \(plain[^\n]*?127\.0\.0\.1:(\d+)/.exec(output)?.[1];
    if (port && output.includes('Mailroom is running')) {
      running.submissionPort = Number(port);
      return running;
    }
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`mailroom exited during start-up:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  await running.kill();
  throw new Error(`mailroom did not start within ${timeoutMs} ms:\n${output}`);
}
