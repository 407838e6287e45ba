/**
 * `mailroom start` for the benchmark's shaping-cost case: the same start, from the same
 * environment, with adaptive shaping on or off (BENCH_SHAPING=off), which the CLI does not
 * offer — it exists to measure what shaping costs. Prints the CLI's banner on stderr.
 */
import { loadConfig } from '../../src/config/load.ts';
import { startMailroom } from '../../src/main.ts';

const running = await startMailroom(loadConfig(process.env), undefined, { shaping: process.env.BENCH_SHAPING !== 'off' });
const stop = () => { running.stop().then(() => process.exit(0), () => process.exit(1)); };
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
const lines = running.listeners.map((l) => `  ${l.name.padEnd(36)} ${l.host}:${l.port}`);
process.stderr.write(`Mailroom is running (node ${running.nodeId}, ${running.store.engine} store):\n${lines.join('\n')}\n`);
