import type { BenchOptions } from '../options.ts';
import type { LoadJob, LoadTarget } from '../load/job.ts';
import type { Variant } from './types.ts';

/** The same load for every kind: only the target differs. */
export function loadJob(target: LoadTarget, variant: Variant, options: BenchOptions): LoadJob {
  return {
    target, tls: variant.tls, size: variant.size, connections: options.connections,
    warmupMs: options.warmupSeconds * 1000, measureMs: options.seconds * 1000, sessionPerMessage: variant.sessions === 'per-message',
    tlsResume: options.tlsResume,
  };
}
