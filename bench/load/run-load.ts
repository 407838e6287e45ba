/** Parent side of the load generator: forks it, hands it the job, waits for its figures. */
import { fork } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { LoadJob, LoadResult, WindowMark } from './job.ts';
import { onCleanup } from '../cleanup.ts';
import { difference, samplePostgres, sampleProcess, sampleThreads, type ProcSample } from '../servers/proc-sample.ts';
import type { ProbeFigures } from '../tools/server-probe.ts';

/** Samples of the server taken as the window opens and closes (tools/server-probe.ts). */
export interface WindowProbe {
  open(): Promise<void>;
  /** Samples at once; the answer turns the window's totals into figures per message. */
  close(): Promise<(messages: number) => ProbeFigures>;
}

const GENERATOR = fileURLToPath(new URL('./generator.ts', import.meta.url));

type GeneratorMessage = { ok: true; result: LoadResult } | { ok: false; error: string } | WindowMark;

/** `serverCpu` reads the server child's CPU time in microseconds; it is sampled as the window opens and closes. */
/** Busy time of all cores since boot, in microseconds. */
function machineBusyMicros(): number {
  return cpus().reduce((sum, cpu) => sum + (cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq) * 1000, 0);
}

/** What else to sample over the window: the server's bytes written, the PostgreSQL server's CPU and bytes written. */
export interface ProcessSampling {
  serverPid?: number;
  postgres?: boolean;
}

export function runLoadInChild(job: LoadJob, serverCpu?: () => Promise<number>, sampling: ProcessSampling = {}, probe?: WindowProbe): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(GENERATOR, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const forget = onCleanup(() => { child.kill('SIGKILL'); });
    let answer: Exclude<GeneratorMessage, WindowMark> | null = null;
    let opened: Promise<number> | null = null;
    let closed: Promise<number> | null = null;
    let probeOpened: Promise<void> | null = null;
    let probeClosed: Promise<(messages: number) => ProbeFigures> | null = null;
    const machine = { open: NaN, close: NaN };
    const server: Record<'open' | 'close', ProcSample | null> = { open: null, close: null };
    const threads: Record<'open' | 'close', Map<string, number>> = { open: new Map(), close: new Map() };
    const postgres: Record<'open' | 'close', Map<number, ProcSample>> = { open: new Map(), close: new Map() };
    child.on('message', (message: GeneratorMessage) => {
      if ('mark' in message) {
        machine[message.mark] = machineBusyMicros();
        if (sampling.serverPid) {
          server[message.mark] = sampleProcess(sampling.serverPid);
          threads[message.mark] = sampleThreads(sampling.serverPid);
        }
        if (sampling.postgres) postgres[message.mark] = samplePostgres();
        if (serverCpu && message.mark === 'open') opened = serverCpu();
        if (serverCpu && message.mark === 'close') closed = serverCpu();
        if (probe && message.mark === 'open') probeOpened = probe.open().catch((error: Error) => console.warn(`    probe: ${error.message}`));
        if (probe && message.mark === 'close') probeClosed = Promise.resolve(probeOpened).then(() => probe.close());
      } else {
        answer = message;
      }
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      forget();
      if (!answer?.ok) {
        return reject(new Error(answer ? `load generator failed: ${answer.error}` : `load generator exited (${signal ?? code}) without a result`));
      }
      const counted = answer.result;
      const figures = probe && probeClosed ? probeClosed.then((perMessage) => perMessage(counted.messages)).catch((error: Error): ProbeFigures => { console.warn(`    probe: ${error.message}`); return {}; }) : Promise.resolve<ProbeFigures>({});
      void figures.then((extra) => finish({ ...counted, ...extra }));
    });
    const finish = (measured: LoadResult) => {
      const share = (micros: number) => (100 * micros) / (job.measureMs * 1000);
      const written = server.open && server.close ? { serverWriteBytes: server.close.writeBytes - server.open.writeBytes } : {};
      const threadCpu = [...threads.close].map(([name, micros]) => ({ name, micros: micros - (threads.open.get(name) ?? 0) })).filter((t) => t.micros > 0);
      const pg = sampling.postgres ? difference(postgres.open, postgres.close) : null;
      const result = {
        ...measured, ...written, ...(threadCpu.length > 0 ? { serverThreadCpu: threadCpu } : {}),
        ...(pg ? { postgresWriteBytes: pg.writeBytes, postgresCpu: share(pg.cpuMicros) } : {}),
      };
      const machineBusy = share(machine.close - machine.open);
      if (!opened || !closed) return resolve({ ...result, otherCpu: machineBusy - result.clientCpu });
      Promise.all([opened, closed]).then(([before, after]) => {
        const server = share(after - before);
        resolve({ ...result, serverCpu: server, otherCpu: Math.max(0, machineBusy - server - result.clientCpu) });
      }, () => resolve(result));
    };
    child.send(job);
  });
}
