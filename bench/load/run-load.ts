/** Parent side of the load generator: forks it, hands it the job, waits for its figures. */
import { fork } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { LoadJob, LoadResult, WindowMark } from './job.ts';
import { onCleanup } from '../cleanup.ts';
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

export function runLoadInChild(job: LoadJob, serverCpu?: () => Promise<number>, probe?: WindowProbe): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(GENERATOR, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const forget = onCleanup(() => { child.kill('SIGKILL'); });
    let answer: Exclude<GeneratorMessage, WindowMark> | null = null;
    let opened: Promise<number> | null = null;
    let closed: Promise<number> | null = null;
    let probeOpened: Promise<void> | null = null;
    let probeClosed: Promise<(messages: number) => ProbeFigures> | null = null;
    const machine = { open: NaN, close: NaN };
    child.on('message', (message: GeneratorMessage) => {
      if ('mark' in message) {
        machine[message.mark] = machineBusyMicros();
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
    const finish = (result: LoadResult) => {
      const share = (micros: number) => (100 * micros) / (job.measureMs * 1000);
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
