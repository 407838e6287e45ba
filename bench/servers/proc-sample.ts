/**
 * Bytes written and CPU time of processes, read from /proc (Linux). Written
 * bytes per message show what a store pays for a body (WAL, checkpoint,
 * TOAST) whatever else runs on a shared machine; the PostgreSQL server's
 * processes are read too, since its work is not in the Mailroom process.
 */
import { readFileSync, readdirSync } from 'node:fs';

export interface ProcSample {
  /** write_bytes of /proc/<pid>/io: bytes this process caused to be written to storage. */
  writeBytes: number;
  /** user + system CPU time, in microseconds. */
  cpuMicros: number;
}

const TICK_MICROS = 10_000; // USER_HZ is 100 on Linux.

export function sampleProcess(pid: number | string): ProcSample | null {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const writeBytes = Number(/^write_bytes:\s*(\d+)/m.exec(io)?.[1] ?? NaN);
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { writeBytes, cpuMicros: (Number(fields[11]) + Number(fields[12])) * TICK_MICROS };
  } catch {
    return null; // Gone, or not Linux.
  }
}

/** CPU time per thread name of one process (main thread, SQLite writer, signer, V8's GC workers…), in microseconds. */
export function sampleThreads(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try { tids = readdirSync(`/proc/${pid}/task`); } catch { return out; }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) * TICK_MICROS);
    } catch { /* the thread ended */ }
  }
  return out;
}

/**
 * Every PostgreSQL server process (postmaster, backends, WAL writer, checkpointer), summed by pid.
 * Includes other databases' work on a shared server: a figure to compare between runs, not exact.
 */
export function samplePostgres(): Map<number, ProcSample> {
  const out = new Map<number, ProcSample>();
  let pids: string[] = [];
  try { pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name)); } catch { return out; }
  for (const pid of pids) {
    let comm = '';
    try { comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { continue; }
    if (comm !== 'postgres' && !comm.startsWith('postgres:')) continue;
    const sample = sampleProcess(pid);
    if (sample) out.set(Number(pid), sample);
  }
  return out;
}

/** What the processes did between two samples; a process that started in between counts from zero. */
export function difference(before: Map<number, ProcSample>, after: Map<number, ProcSample>): ProcSample {
  let writeBytes = 0;
  let cpuMicros = 0;
  for (const [pid, end] of after) {
    const start = before.get(pid) ?? { writeBytes: 0, cpuMicros: 0 };
    writeBytes += Math.max(0, end.writeBytes - start.writeBytes);
    cpuMicros += Math.max(0, end.cpuMicros - start.cpuMicros);
  }
  return { writeBytes, cpuMicros };
}
