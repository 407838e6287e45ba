/**
 * The disk-space guard: watches the free space where Mailroom writes (the
 * data directory, and the SQLite file's directory) and says when it is below
 * MAILROOM_MIN_FREE_SPACE. Acceptance then refuses new mail with a temporary
 * error instead of letting a commit find the disk full; it resumes by itself
 * at the first check that sees the space back. A PostgreSQL server's disk is
 * its own to watch (README: "Retention and backups").
 */
import { existsSync, statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Logger } from 'pino';

export interface DiskGuard {
  /** True while some watched directory is below the threshold. */
  low(): boolean;
  /** The least free space seen at the last check, in bytes. */
  freeBytes(): number;
  stop(): void;
}

export interface DiskGuardOptions {
  directories: readonly string[];
  /** null: the guard is off. */
  minFreeBytes: number | null;
  intervalMs?: number;
  logger: Logger;
  /** The two gauges it sets (events/metrics.ts has them); the store does not import the metrics. */
  metrics?: { diskFreeBytes: Gauge; diskSpaceLow: Gauge };
}

interface Gauge {
  set(value: number): void;
}

/** The directories to watch for a data directory and a database URL. */
export function watchedDirectories(dataDir: string, databaseUrl: string): string[] {
  const dirs = [resolve(dataDir)];
  if (databaseUrl.startsWith('sqlite:')) dirs.push(dirname(resolve(databaseUrl.slice('sqlite:'.length))));
  return [...new Set(dirs)];
}

export function startDiskGuard(options: DiskGuardOptions): DiskGuard {
  const { directories, minFreeBytes, logger, metrics } = options;
  let low = false;
  let free = Number.POSITIVE_INFINITY;
  const check = () => {
    free = Math.min(...directories.map(freeSpace));
    const nowLow = minFreeBytes !== null && free < minFreeBytes;
    if (nowLow !== low) {
      if (nowLow) logger.error({ event: 'disk.low', freeBytes: free, minFreeBytes }, `free disk space ${free} bytes is below MAILROOM_MIN_FREE_SPACE (${minFreeBytes}): new mail is refused with 452 4.3.1 until space returns`);
      else logger.warn({ event: 'disk.recovered', freeBytes: free }, 'free disk space is back above MAILROOM_MIN_FREE_SPACE: accepting mail again');
    }
    low = nowLow;
    if (Number.isFinite(free)) metrics?.diskFreeBytes.set(free);
    metrics?.diskSpaceLow.set(low ? 1 : 0);
  };
  check();
  const timer = setInterval(() => {
    try {
      check();
    } catch (error) {
      logger.warn({ err: error, event: 'disk.check_failed' }, 'could not read the free disk space');
    }
  }, options.intervalMs ?? 5_000);
  timer.unref();
  return { low: () => low, freeBytes: () => free, stop: () => clearInterval(timer) };
}

function freeSpace(directory: string): number {
  // A data directory not made yet (a node with nothing to keep there) lives on its parent's file system.
  let existing = directory;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  const stats = statfsSync(existing);
  // bavail, not bfree: the blocks an unprivileged process may actually use.
  return Number(stats.bavail) * Number(stats.bsize);
}
