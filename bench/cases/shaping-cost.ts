/**
 * What adaptive shaping costs on the normal case (nothing throttles): the end-to-end run of
 * `multinode` (one node, SMTP in, DKIM, delivery to the loopback MX) with shaping on and with it
 * off (bench/servers/start-node.ts), alternated on/off three times on fresh databases so that the
 * machine's other load falls on both alike. It prints the server CPU per message of every run
 * and the difference of the medians: the figure the contract bounds (at most 5 %). The table row
 * is the last run with shaping on.
 */
import { fileURLToPath } from 'node:url';
import { CaseSkipped, type BenchCase, type CaseKind, type Variant } from './types.ts';
import type { BenchOptions } from '../options.ts';
import type { LoadResult } from '../load/job.ts';
import { StoreUnavailable, createBenchDatabase } from '../stores.ts';
import { endToEndOn } from '../multinode.ts';

const START_NODE = fileURLToPath(new URL('../servers/start-node.ts', import.meta.url));
const ROUNDS = 3;

export const shapingCost: CaseKind = {
  name: 'shaping-cost',
  description: 'end to end on one node with adaptive shaping on and off (alternated): server CPU per message of each, and the difference',
  plan(variant: Variant, options: BenchOptions): BenchCase[] {
    if (variant.size !== Math.min(...options.sizes) || variant.tls !== 'plain' || variant.sessions !== 'reused') return [];
    return options.stores.map((engine): BenchCase => ({
      kind: 'e2e-shaping-cost', store: engine, size: variant.size, tls: 'plain', sessions: 'reused', connections: options.connections,
      run: () => compare(engine, variant.size, options),
    }));
  },
};

/** Server CPU time per delivered message, in µs. */
const cpuPerMessage = (r: LoadResult) => (r.serverCpu * 10_000) / r.perSecond;

async function compare(engine: 'sqlite' | 'postgres', size: number, options: BenchOptions): Promise<LoadResult> {
  const runs: Record<'on' | 'off', LoadResult[]> = { on: [], off: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const shaping of ['on', 'off'] as const) {
      const database = await createBenchDatabase(engine).catch((error: unknown) => {
        throw error instanceof StoreUnavailable ? new CaseSkipped(error.message) : error;
      });
      try {
        console.log(`    shaping ${shaping} (round ${round + 1} of ${ROUNDS}):`);
        const result = await endToEndOn(database, 1, size, options, { BENCH_SHAPING: shaping }, [START_NODE]);
        runs[shaping].push(result);
        console.log(`      ${cpuPerMessage(result).toFixed(0)} µs server CPU/msg, ${result.perSecond.toFixed(0)} msgs/s delivered, machine's other load ${result.otherCpu.toFixed(0)}%`);
      } finally {
        await database.drop();
      }
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const on = median(runs.on.map(cpuPerMessage));
  const off = median(runs.off.map(cpuPerMessage));
  const rateOn = median(runs.on.map((r) => r.perSecond));
  const rateOff = median(runs.off.map((r) => r.perSecond));
  console.log(`    ${engine}: shaping on ${on.toFixed(0)} µs/msg, off ${off.toFixed(0)} µs/msg: shaping costs ${(((on - off) / off) * 100).toFixed(1)} % CPU per message`
    + ` (throughput on ${rateOn.toFixed(0)} msgs/s, off ${rateOff.toFixed(0)} msgs/s: ${(((rateOff - rateOn) / rateOff) * 100).toFixed(1)} %; the bound is 5 %)`);
  return runs.on[runs.on.length - 1];
}
