/** Parent side of a server child: fork it, wait until it listens, stop it afterwards. */
import { fork, type ChildProcess } from 'node:child_process';
import { onCleanup } from '../cleanup.ts';
import type { LoadTarget } from '../load/job.ts';
import type { ServerCommand, ServerReport } from './protocol.ts';

export interface ServerChild {
  target: LoadTarget;
  pid: number;
  /** The child's CPU time so far (user + system), in microseconds. */
  cpu(): Promise<number>;
  stop(): Promise<void>;
}

export interface ForkServerOptions {
  env: Record<string, string>;
  /** Writes a V8 CPU profile of the child into this directory when it stops. */
  profileDir: string | null;
  profileName: string;
  /** More Node options (e.g. the bench probe's --import). */
  execArgv?: string[];
}

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

export function forkServer(script: string, options: ForkServerOptions): Promise<ServerChild> {
  const execArgv = options.profileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`, `--cpu-prof-name=${options.profileName}.cpuprofile`]
    : [];
  execArgv.push(...(options.execArgv ?? []));
  const child = fork(script, [], { env: { ...process.env, ...options.env }, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const forget = onCleanup(() => { child.kill('SIGKILL'); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${script} did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    const fail = (error: Error) => {
      clearTimeout(timer);
      forget();
      child.kill('SIGKILL');
      reject(error);
    };
    child.once('exit', (code, signal) => fail(new Error(`${script} exited (${signal ?? code}) before it was ready`)));
    child.once('message', (report: ServerReport) => {
      if (report.type === 'failed') return fail(new Error(`${script} failed to start: ${report.error}`));
      if (report.type !== 'ready') return fail(new Error(`${script} sent ${report.type} before it was ready`));
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({ target: report.target, pid: child.pid!, cpu: () => askCpu(child), stop: () => stopChild(child).finally(forget) });
    });
  });
}

function askCpu(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.off('message', onReport); reject(new Error('no CPU sample')); }, 5000);
    const onReport = (report: ServerReport) => {
      if (report.type !== 'cpu') return;
      clearTimeout(timer);
      child.off('message', onReport);
      resolve(report.micros);
    };
    child.on('message', onReport);
    child.send({ type: 'cpu' } satisfies ServerCommand);
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.send({ type: 'stop' } satisfies ServerCommand);
  });
}
