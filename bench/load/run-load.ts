/** Parent side of the load generator: forks it, hands it the job, waits for its figures. */
import { fork } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { LoadJob, LoadResult, WindowMark } from './job.ts';
import { onCleanup } from '../cleanup.ts';

const GENERATOR = fileURLToPath(new URL('./generator.ts', import.meta.url));

type GeneratorMessage = { ok: true; result: LoadResult } | { ok: false; error: string } | WindowMark;

/** `serverCpu` reads the server child's CPU time in microseconds; it is sampled as the window opens and closes. */
/** Busy time of all cores since boot, in microseconds. */
function machineBusyMicros(): number {
  return cpus().reduce((sum, cpu) => sum + (cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq) * 1000, 0);
}

export function runLoadInChild(job: LoadJob, serverCpu?: () => Promise<number>): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(GENERATOR, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const forget = onCleanup(() => { child.kill('SIGKILL'); });
    let answer: Exclude<GeneratorMessage, WindowMark> | null = null;
    let opened: Promise<number> | null = null;
    let closed: Promise<number> | null = null;
    const machine = { open: NaN, close: NaN };
    child.on('message', (message: GeneratorMessage) => {
      if ('mark' in message) {
        machine[message.mark] = machineBusyMicros();
        if (serverCpu && message.mark === 'open') opened = serverCpu();
        if (serverCpu && message.mark === 'close') closed = serverCpu();
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
      const result = answer.result;
      const share = (micros: number) => (100 * micros) / (job.measureMs * 1000);
      const machineBusy = share(machine.close - machine.open);
      if (!opened || !closed) return resolve({ ...result, otherCpu: machineBusy - result.clientCpu });
      Promise.all([opened, closed]).then(([before, after]) => {
        const server = share(after - before);
        resolve({ ...result, serverCpu: server, otherCpu: Math.max(0, machineBusy - server - result.clientCpu) });
      }, () => resolve(result));
    });
    child.send(job);
  });
}
