/** The printed results: one line per case as it finishes, the table, and the target verdict. */
import type { LoadResult } from './load/job.ts';
import type { BenchCase } from './cases/types.ts';
import { cpus } from 'node:os';
import { formatSize } from './options.ts';

export interface Row {
  benchCase: BenchCase;
  result: LoadResult | null;
  /** Why there is no result (skipped, failed). */
  note: string | null;
}

const number = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const percent = (value: number) => (Number.isFinite(value) ? `${value.toFixed(0)}%` : '-');
/** Server CPU time per acknowledged message: steadier than msgs/s when the machine is shared. */
const perMessage = (r: LoadResult) => (Number.isFinite(r.serverCpu) && r.perSecond > 0 ? number.format((r.serverCpu * 10_000) / r.perSecond) : '-');
/** The load generator's CPU per message: on a 2-core machine it takes from the server's share (a TLS client's handshake costs as much as the server's). */
const clientPerMessage = (r: LoadResult) => (Number.isFinite(r.clientCpu) && r.perSecond > 0 ? number.format((r.clientCpu * 10_000) / r.perSecond) : '-');
/**
 * The most sessions/s this machine's cores allow at the measured CPU per session of server and
 * load generator together (both run here): what no server change can beat without a cheaper client.
 */
const coreBound = (r: LoadResult) => {
  const micros = ((r.serverCpu + r.clientCpu) * 10_000) / r.perSecond;
  return Number.isFinite(micros) && micros > 0 ? `; ${cpus().length} cores allow at most ${number.format((cpus().length * 1_000_000) / micros)}/s at that CPU` : '';
};
/** STARTTLS runs: how many handshakes resumed an earlier TLS session. */
const resumedShare = (r: LoadResult) => (r.tlsHandshakes
  ? `, ${r.tlsKeyType === 'ec' ? 'ECDSA' : (r.tlsKeyType ?? '?').toUpperCase()} certificate, ${((100 * (r.tlsResumed ?? 0)) / r.tlsHandshakes).toFixed(0)}% of TLS handshakes resumed`
  : '');
const decimal = (value: number | undefined, digits = 1) => (value !== undefined && Number.isFinite(value) ? value.toFixed(digits) : '-');
/** Statements to the store per message, the PostgreSQL backends' CPU per message, the server's event-loop delay. */
const probeText = (r: LoadResult) => [
  r.statementsPerMessage !== undefined ? `${decimal(r.statementsPerMessage, 2)} statements/msg` : null,
  r.postgresMicrosPerMessage !== undefined ? `postgres ${decimal(r.postgresMicrosPerMessage, 0)} µs/msg` : null,
  r.loopDelayP99Ms !== undefined ? `event-loop delay p99 ${decimal(r.loopDelayP99Ms, 1)} ms` : null,
].filter((part) => part !== null).join(', ');
const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(value < 10 ? 2 : 1) : '-');

export function describeCase(c: BenchCase): string {
  return `${c.kind} ${c.store ?? '-'} ${formatSize(c.size)} ${c.tls}${c.sessions === 'per-message' ? ' session-per-message' : ''} ${c.connections} conns`;
}

export function progressLine(row: Row): string {
  if (!row.result) return `  ${describeCase(row.benchCase)}: ${row.note}`;
  const r = row.result;
  const errors = r.errors > 0 ? `, ${r.errors} errors (first: ${r.firstError})` : '';
  return `  ${describeCase(row.benchCase)}: ${number.format(r.perSecond)} msgs/s, p50 ${ms(r.p50Ms)} ms, p99 ${ms(r.p99Ms)} ms, max ${ms(r.maxMs)} ms, server cpu ${percent(r.serverCpu)} (${perMessage(r)} µs/msg)${probeText(r) ? `, ${probeText(r)}` : ''}, client cpu ${percent(r.clientCpu)}, other cpu ${percent(r.otherCpu)}${resumedShare(r)}${storageCost(r)}${errors}`;
}

/** Bytes written per acknowledged message (server, PostgreSQL) and PostgreSQL's CPU per message: what a body costs the store. */
function storageCost(r: LoadResult): string {
  const count = r.messages;
  if (!(count > 0)) return '';
  const kb = (bytes: number) => `${(bytes / count / 1024).toFixed(1)} KB`;
  const parts: string[] = [];
  if (r.serverThreadCpu) {
    const busiest = [...r.serverThreadCpu].sort((a, b) => b.micros - a.micros).slice(0, 4);
    parts.push(`by thread ${busiest.map((t) => `${t.name} ${number.format(t.micros / count)}`).join(' / ')} µs/msg`);
  }
  if (r.serverWriteBytes !== undefined) parts.push(`server wrote ${kb(r.serverWriteBytes)}/msg`);
  if (r.postgresWriteBytes !== undefined) parts.push(`postgres wrote ${kb(r.postgresWriteBytes)}/msg`);
  if (r.postgresCpu !== undefined) parts.push(`postgres cpu ${percent(r.postgresCpu)} (${number.format((r.postgresCpu * 10_000) / r.perSecond)} µs/msg, whole server)`);
  return parts.length > 0 ? `, ${parts.join(', ')}` : '';
}

/** The ceiling row measured at the same size, transport and connection count. */
export function ceilingFor(rows: readonly Row[], c: BenchCase): LoadResult | null {
  const match = rows.find((row) => row.benchCase.kind === 'ceiling' && row.result
    && row.benchCase.size === c.size && row.benchCase.tls === c.tls && row.benchCase.sessions === c.sessions && row.benchCase.connections === c.connections);
  return match?.result ?? null;
}

export function table(rows: readonly Row[]): string {
  const header = ['case', 'store', 'size', 'tls', 'sessions', 'conns', 'msgs/s', 'p50 ms', 'p99 ms', '% of ceiling', 'errors', 'server cpu', 'µs/msg', 'stmts/msg', 'pg µs/msg', 'loop p99 ms', 'client cpu', 'client µs/msg', 'other cpu'];
  const body = rows.map((row) => {
    const c = row.benchCase;
    const r = row.result;
    const ceiling = c.kind === 'ceiling' ? null : ceilingFor(rows, c);
    const share = r && ceiling && ceiling.perSecond > 0 ? `${((100 * r.perSecond) / ceiling.perSecond).toFixed(0)}%` : '-';
    return [
      c.kind, c.store ?? '-', formatSize(c.size), c.tls, c.sessions === 'per-message' ? 'per msg' : 'reused', String(c.connections),
      r ? number.format(r.perSecond) : (row.note?.startsWith('skipped') ? 'skipped' : 'failed'),
      r ? ms(r.p50Ms) : '-', r ? ms(r.p99Ms) : '-', share, r ? String(r.errors) : '-', r ? percent(r.serverCpu) : '-', r ? perMessage(r) : '-',
      decimal(r?.statementsPerMessage, 2), decimal(r?.postgresMicrosPerMessage, 0), decimal(r?.loopDelayP99Ms, 1), r ? percent(r.clientCpu) : '-', r ? clientPerMessage(r) : '-', r ? percent(r.otherCpu) : '-',
    ];
  });
  const widths = header.map((title, i) => Math.max(title.length, ...body.map((cells) => cells[i].length)));
  // Text columns left, figures right.
  const numeric = (i: number) => i >= 5;
  const line = (cells: string[]) => cells.map((cell, i) => (numeric(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd();
  const notes = rows.filter((row) => row.note).map((row) => `  note: ${describeCase(row.benchCase)}: ${row.note}`);
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line), ...notes].join('\n');
}

const TARGET = { store: 'sqlite', size: 1024, tls: 'plain', connections: 50, floor: 1500, shareOfCeiling: 0.7, p99Ms: 50 } as const;

/** Other work on the machine during a case makes its figures low; say so rather than let them pass as Mailroom's. */
export function noiseWarning(rows: readonly Row[], threshold = 25): string | null {
  const noisy = rows.filter((row) => row.result && row.benchCase.store !== 'postgres' && row.result.otherCpu > threshold);
  if (noisy.length === 0) return null;
  return `WARNING: other processes used more than ${threshold}% CPU during ${noisy.length} case(s) `
    + `(${noisy.map((row) => describeCase(row.benchCase)).join('; ')}): their msgs/s and latencies are low; rerun on a quiet machine.`;
}

export function targetVerdict(rows: readonly Row[]): string {
  const title = `Target: SQLite, 1 KB, ${TARGET.connections} connections, no TLS: at least ${number.format(TARGET.floor)} msgs/s `
    + `or ${TARGET.shareOfCeiling * 100}% of the ceiling if that is lower, with p99 under ${TARGET.p99Ms} ms.`;
  const row = rows.find((r) => r.benchCase.kind === 'acceptance' && r.benchCase.store === TARGET.store
    && r.benchCase.size === TARGET.size && r.benchCase.tls === TARGET.tls && r.benchCase.sessions === 'reused' && r.benchCase.connections === TARGET.connections);
  if (!row?.result) return `${title}\n  not evaluated: this run has no result for that case (it needs --stores sqlite, --sizes 1k, --connections 50).`;
  const ceiling = ceilingFor(rows, row.benchCase);
  const needed = ceiling ? Math.min(TARGET.floor, TARGET.shareOfCeiling * ceiling.perSecond) : TARGET.floor;
  const r = row.result;
  const fastEnough = r.perSecond >= needed;
  const quickEnough = r.p99Ms < TARGET.p99Ms;
  const basis = ceiling
    ? `ceiling ${number.format(ceiling.perSecond)} msgs/s, so at least ${number.format(needed)} msgs/s needed`
    : `no ceiling measured, so ${number.format(needed)} msgs/s needed`;
  return [
    title,
    `  ${basis}`,
    `  measured ${number.format(r.perSecond)} msgs/s (${fastEnough ? 'ok' : 'too slow'}), p99 ${ms(r.p99Ms)} ms (${quickEnough ? 'ok' : 'too slow'})`,
    `  => target ${fastEnough && quickEnough ? 'MET' : 'NOT MET'}`,
  ].join('\n');
}

/**
 * Issue 3's end-to-end target: at least 1,000 msgs/s delivered, DKIM included, and delivery
 * never below 60% of the acceptance rate ("the queue must not become the bottleneck"): read
 * here as the mail arrived so far against the mail accepted so far, at every whole second of
 * the run. Acceptance measured alone, with both cores to itself, is shown for reference.
 */
const E2E_TARGET = { kind: 'e2e-1-node', store: 'sqlite', size: 1024, connections: 50, floor: 1000, pace: 0.6 } as const;

export function endToEndVerdict(rows: readonly Row[]): string {
  const title = `End-to-end target: SQLite, 1 KB, ${E2E_TARGET.connections} connections, DKIM included: at least ${number.format(E2E_TARGET.floor)} msgs/s `
    + `delivered, and delivery never below ${E2E_TARGET.pace * 100}% of the acceptance rate.`;
  const matches = (r: Row, kind: string) => r.benchCase.kind === kind && r.benchCase.store === E2E_TARGET.store
    && r.benchCase.size === E2E_TARGET.size && r.benchCase.tls === 'plain' && r.benchCase.connections === E2E_TARGET.connections;
  const e2e = rows.find((r) => matches(r, E2E_TARGET.kind))?.result;
  if (!e2e) return `${title}
  not evaluated: this run has no result for that case (it needs --cases multinode, --stores sqlite, --sizes 1k, --connections 50).`;
  const fastEnough = e2e.perSecond >= E2E_TARGET.floor;
  const pace = e2e.slowestDeliveryPace ?? null;
  const keepsUp = pace !== null && pace >= E2E_TARGET.pace;
  const accepted = e2e.acceptedPerSecond ? ` (accepted at ${number.format(e2e.acceptedPerSecond)} msgs/s meanwhile)` : '';
  const alone = rows.find((r) => matches(r, 'acceptance'))?.result ?? null;
  return [
    title,
    `  measured ${number.format(e2e.perSecond)} msgs/s delivered${accepted} (${fastEnough ? 'ok' : 'too slow'})`,
    pace === null
      ? '  delivery pace not measured (the run was shorter than a second)'
      : `  delivered/accepted, at every whole second of submitting: never below ${(pace * 100).toFixed(0)}% (${keepsUp ? 'ok' : 'too low'})`,
    ...(alone ? [`  for reference, acceptance alone (both cores to itself): ${number.format(alone.perSecond)} msgs/s; end to end is ${(100 * e2e.perSecond / alone.perSecond).toFixed(0)}% of it`] : []),
    `  => target ${fastEnough && keepsUp ? 'MET' : 'NOT MET'}`,
  ].join('\n');
}

/**
 * Issue 18's targets for a session per message (the way Gmail's "Send mail as" and most mail
 * libraries submit), 1 KB, 50 clients: STARTTLS + AUTH at least 1,200 sessions/s on SQLite and
 * 900 on PostgreSQL, plain + AUTH at least 2,000 on SQLite; the whole session's p99 under 100 ms.
 */
const SESSION_TARGETS = [
  { store: 'sqlite', tls: 'starttls', floor: 1200 },
  { store: 'postgres', tls: 'starttls', floor: 900 },
  { store: 'sqlite', tls: 'plain', floor: 2000 },
] as const;
const SESSION_P99_MS = 100;

export function sessionVerdict(rows: readonly Row[]): string {
  const title = `Session-per-message targets: 1 KB, 50 clients, whole-session p99 under ${SESSION_P99_MS} ms; `
    + SESSION_TARGETS.map((t) => `${t.tls === 'starttls' ? 'STARTTLS' : 'plain'} + AUTH on ${t.store === 'sqlite' ? 'SQLite' : 'PostgreSQL'} at least ${number.format(t.floor)}/s`).join(', ') + '.';
  const lines = [title];
  let evaluated = 0;
  let met = true;
  for (const target of SESSION_TARGETS) {
    const row = rows.find((r) => r.benchCase.kind === 'acceptance' && r.benchCase.store === target.store && r.benchCase.size === 1024
      && r.benchCase.tls === target.tls && r.benchCase.sessions === 'per-message' && r.benchCase.connections === 50);
    if (!row?.result) continue;
    evaluated += 1;
    const r = row.result;
    const fastEnough = r.perSecond >= target.floor;
    const quickEnough = r.p99Ms < SESSION_P99_MS;
    met &&= fastEnough && quickEnough;
    const ceiling = ceilingFor(rows, row.benchCase);
    lines.push(`  ${target.store} ${target.tls}: ${number.format(r.perSecond)} sessions/s (${fastEnough ? 'ok' : 'too slow'}), p50 ${ms(r.p50Ms)} ms, p99 ${ms(r.p99Ms)} ms (${quickEnough ? 'ok' : 'too slow'}), `
      + `CPU per session: server ${perMessage(r)} µs, client ${clientPerMessage(r)} µs${resumedShare(r)}${coreBound(r)}`);
    if (ceiling) {
      lines.push(`    bare smtp-server, same pattern: ${number.format(ceiling.perSecond)} sessions/s, p50 ${ms(ceiling.p50Ms)} ms, p99 ${ms(ceiling.p99Ms)} ms, CPU per session: server ${perMessage(ceiling)} µs, client ${clientPerMessage(ceiling)} µs${coreBound(ceiling)}`);
    }
  }
  if (evaluated === 0) return `${title}\n  not evaluated: this run has no session-per-message result at 1 KB and 50 connections (--sessions per-message --sizes 1k).`;
  lines.push('  The load generator runs on the same cores: server + client CPU per session bound sessions/s at (cores × 1,000,000 µs) / (their sum), however idle the server.');
  lines.push(`  => ${evaluated < SESSION_TARGETS.length ? `${evaluated} of ${SESSION_TARGETS.length} evaluated, ` : ''}targets ${met ? 'MET' : 'NOT MET'}`);
  return lines.join('\n');
}
