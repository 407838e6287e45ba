/**
 * `npm run bench`: Mailroom's SMTP acceptance throughput and latency against
 * the ceiling of its SMTP library, on both stores. See bench/README.md.
 * It reports figures and never fails on them.
 */
import { cpus } from 'node:os';
import { CASE_KINDS } from './cases/index.ts';
import { CaseSkipped, type BenchCase, type Variant } from './cases/types.ts';
import { cleanupAll } from './cleanup.ts';
import { USAGE, formatSize, parseOptions, type BenchOptions } from './options.ts';
import { endToEndVerdict, noiseWarning, progressLine, sessionVerdict, table, targetVerdict, type Row } from './report.ts';
import { runFlatCost } from './flat-cost/run.ts';
import { runMemory } from './memory/run.ts';

/** Not a row of the table: it prints its own (empty store against pre-filled), see flat-cost/run.ts. */
const FLAT_COST = 'flat-cost';
/** Not a row either, and only when asked for (it takes a quarter of an hour per store): see memory/run.ts. */
const MEMORY = 'memory';

/** Every size without TLS; the smallest also with STARTTLS; a session per message at the smallest size only. */
function variants(options: BenchOptions): Variant[] {
  const smallest = Math.min(...options.sizes);
  return options.sessions.flatMap((sessions) => options.sizes.flatMap((size): Variant[] => {
    if (sessions === 'per-message' && size !== smallest) return [];
    return options.starttls && size === smallest
      ? [{ size, tls: 'plain', sessions }, { size, tls: 'starttls', sessions }]
      : [{ size, tls: 'plain', sessions }];
  }));
}

function plan(options: BenchOptions): BenchCase[] {
  const unknown = options.cases.filter((name) => name !== FLAT_COST && name !== MEMORY && !CASE_KINDS.some((kind) => kind.name === name));
  if (unknown.length > 0) throw new Error(`--cases: unknown ${unknown.join(', ')} (known: ${[...CASE_KINDS.map((k) => k.name), FLAT_COST, MEMORY].join(', ')})`);
  const kinds = CASE_KINDS.filter((kind) => options.cases.length === 0 || options.cases.includes(kind.name));
  return variants(options).flatMap((variant) => kinds.flatMap((kind) => kind.plan(variant, options)));
}

async function runCase(benchCase: BenchCase): Promise<Row> {
  try {
    return { benchCase, result: await benchCase.run(), note: null };
  } catch (error) {
    const note = error instanceof CaseSkipped ? `skipped: ${error.message}` : `failed: ${(error as Error).stack ?? error}`;
    return { benchCase, result: null, note };
  }
}

async function main(): Promise<void> {
  let options: BenchOptions | null;
  let cases: BenchCase[];
  try {
    options = parseOptions(process.argv.slice(2));
    if (!options) {
      return void console.log(`${USAGE}\n\nCase kinds:\n${CASE_KINDS.map((k) => `  ${k.name.padEnd(12)} ${k.description}`).join('\n')}\n`
        + `  ${FLAT_COST.padEnd(12)} the same figures on an empty and a pre-filled store (1M deferred, 10M history rows), query plans, a retention pass\n`
        + `  ${MEMORY.padEnd(12)} RSS per minute of a steady accept-and-deliver run, and with 10,000 idle SMTP connections (only with --cases memory)`);
    }
    cases = plan(options);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => { void cleanupAll().finally(() => process.exit(130)); });
  }

  const perCase = options.warmupSeconds + options.seconds;
  console.log(`Mailroom benchmark: node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'})`);
  console.log(`${cases.length} cases, ${options.connections} connections, sizes ${options.sizes.map(formatSize).join(', ')}, `
    + `${options.warmupSeconds} s warm-up + ${options.seconds} s measured each (about ${Math.ceil((cases.length * (perCase + 3)) / 60)} min)`);
  if (options.profileDir) console.log(`CPU profiles of the server children go to ${options.profileDir}`);

  const rows: Row[] = [];
  for (const benchCase of cases) {
    const row = await runCase(benchCase);
    rows.push(row);
    console.log(progressLine(row));
  }
  await cleanupAll();
  const flatCost = options.cases.length === 0 || options.cases.includes(FLAT_COST);
  const memory = options.cases.includes(MEMORY);
  if (rows.length === 0) {
    if (flatCost) await runFlatCost(options).finally(cleanupAll);
    if (memory) await runMemory(options).finally(cleanupAll);
    return;
  }

  console.log(`\n${table(rows)}\n`);
  console.log('Latency: from writing MAIL FROM (pipelined with RCPT TO and DATA) to reading the 250 after the message;');
  console.log('  sessions "per msg": a new session (connect, EHLO, [STARTTLS, EHLO], AUTH, one message, QUIT) per message,');
  console.log('  msgs/s is then sessions/s, latency the whole session from connect to the 250 after the dot, µs/msg the server CPU per session.');
  console.log('% of ceiling: msgs/s against the bare smtp-server sink at the same size, TLS and connections.');
  console.log(`cpu: CPU time of the server and the load generator process over the measured window, % of one core (${cpus().length} cores = ${cpus().length * 100}%);`);
  console.log('  µs/msg: server CPU time per acknowledged message (steadier than msgs/s on a shared machine); client µs/msg: the load generator\'s, on the same cores.');
  console.log('  stmts/msg: statements the server sent to its store per message (on PostgreSQL each is a round trip);');
  console.log('  pg µs/msg: CPU time of the PostgreSQL backends serving the server, per message (from /proc);');
  console.log('  loop p99 ms: the server main thread\'s event-loop delay, p99 over the window (what every SMTP session waits behind).');
  console.log('  other cpu: the rest of the machine over the same window (for postgres this includes the PostgreSQL server itself).\n');
  const warning = noiseWarning(rows);
  if (warning) console.log(`${warning}\n`);
  console.log(targetVerdict(rows));
  console.log(endToEndVerdict(rows));
  console.log(sessionVerdict(rows));
  if (flatCost) await runFlatCost(options).finally(cleanupAll);
  if (memory) await runMemory(options).finally(cleanupAll);
}

await main();
