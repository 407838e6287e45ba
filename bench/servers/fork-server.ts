/** Parent side of a server child: fork it, wait until it listens, stop it afterwards. */
import { fork, type ChildProcess } from 'node:child_process';
import { onCleanup } from '../cleanup.ts';
import type { LoadTarget } from '../load/job.ts';
import type { MemorySample, ServerCommand, ServerReport } from './protocol.ts';

export interface ServerChild {
  pid: number;
  target: LoadTarget;
  /** The child's CPU time so far (user + system), in microseconds. */
  cpu(): Promise<number>;
  /** The child's memory now (see MemorySample); `threads` adds the worker threads' heaps. */
  memory(threads?: boolean): Promise<MemorySample>;
  stop(): Promise<void>;
}

export interface ForkServerOptions {
  env: Record<string, string>;
  /** Writes a V8 CPU profile of the child into this directory when it stops. */
  profileDir: string | null;
  profileName: string;
  /** More Node flags for the child (e.g. --expose-gc). */
  execArgv?: string[];
}

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

export function forkServer(script: string, options: ForkServerOptions): Promise<ServerChild> {
  const execArgv = options.profileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`, `--cpu-prof-name=${options.profileName}.cpuprofile`]
    : [];
  execArgv.push(...options.execArgv ?? []);
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
      resolve({ pid: child.pid!, target: report.target, cpu: () => ask(child, { type: 'cpu' }).then((r) => r.micros), memory: (threads = false) => ask(child, { type: 'memory', threads }).then((r) => r.sample), stop: () => stopChild(child).finally(forget) });
    });
  });
}

function ask<T extends 'cpu' | 'memory'>(child: ChildProcess, command: ServerCommand & { type: T }): Promise<Extract<ServerReport, { type: T }>> {
  const { type } = command;
  return new Promise((resolve, reject) => {
    // A node busy with 10,000 connections opening answers late.
    const timer = setTimeout(() => { child.off('message', onReport); reject(new Error(`no ${type} sample`)); }, 30_000);
    const onReport = (report: ServerReport) => {
      if (report.type !== type) return;
      clearTimeout(timer);
      child.off('message', onReport);
      resolve(report as Extract<ServerReport, { type: T }>);
    };
    child.on('message', onReport);
    child.send(command);
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
