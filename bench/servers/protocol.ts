/** Messages between the benchmark and a server child it forked. */
import type { LoadTarget } from '../load/job.ts';

export type ServerReport =
  | { type: 'ready'; target: LoadTarget }
  | { type: 'failed'; error: string }
  | { type: 'cpu'; micros: number }
  | { type: 'memory'; sample: MemorySample };

/** `threads`: also the worker threads' heaps, from a diagnostic report (slow with many sockets open: it lists every handle). */
export type ServerCommand = { type: 'stop' } | { type: 'cpu' } | { type: 'memory'; threads: boolean };

/** Bytes. `heapUsed` is taken after a full collection when the child runs with --expose-gc, so garbage does not pass for growth. */
export interface MemorySample {
  rss: number;
  heapUsed: number;
  external: number;
  /** The V8 heaps of the worker threads (queue writer, signers, session threads): not in heapUsed, but in the RSS. */
  threads: Array<{ name: string; heapTotal: number; heapUsed: number }>;
}

/**
 * The child's side: start, report where to connect, stop cleanly when told
 * (so a --cpu-prof profile gets written), and die with the parent.
 */
export function serveInChild(start: () => Promise<{ target: LoadTarget; stop(): Promise<void> }>): void {
  if (!process.send) throw new Error('run this through the benchmark (npm run bench), not directly');
  process.once('disconnect', () => process.exit(1));
  start().then((server) => {
    process.on('message', (command: ServerCommand) => {
      if (command.type === 'cpu') {
        const used = process.cpuUsage();
        process.send!({ type: 'cpu', micros: used.user + used.system } satisfies ServerReport);
      }
      if (command.type === 'memory') process.send!({ type: 'memory', sample: memorySample(command.threads) } satisfies ServerReport);
      if (command.type === 'stop') server.stop().then(() => process.exit(0), () => process.exit(1));
    });
    process.send!({ type: 'ready', target: server.target } satisfies ServerReport);
  }, (error: Error) => {
    process.send!({ type: 'failed', error: error.stack ?? error.message } satisfies ServerReport, () => process.exit(1));
  });
}

function memorySample(withThreads: boolean): MemorySample {
  // RSS as the system sees it (before the collection, which would shrink it for the moment).
  const rss = process.memoryUsage.rss();
  (globalThis as { gc?: () => void }).gc?.();
  const { heapUsed, external } = process.memoryUsage();
  if (!withThreads) return { rss, heapUsed, external, threads: [] };
  // The diagnostic report is the one place a process sees its worker threads' heaps (not collected first).
  const report = process.report.getReport() as { workers?: Array<{ header: { event: string }; javascriptHeap: { totalMemory: number; usedMemory: number } }> };
  const threads = (report.workers ?? []).map((worker) => ({
    name: /\[(.*)\]/.exec(worker.header.event)?.[1] ?? 'worker', heapTotal: worker.javascriptHeap.totalMemory, heapUsed: worker.javascriptHeap.usedMemory,
  }));
  return { rss, heapUsed, external, threads };
}
