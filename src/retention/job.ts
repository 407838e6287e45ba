/**
 * The retention job: on every node, every MAILROOM_RETENTION_INTERVAL, but
 * only the node holding the `retention` job lease runs a pass (store/job-lease.ts),
 * so a cluster sweeps once. A pass prunes the usage counters, deletes caught
 * "receive here" mail past its expiry (MAILROOM_CAUGHT_MAIL_RETENTION), deletes
 * the history past MAILROOM_HISTORY_RETENTION, empties the bodies past
 * MAILROOM_BODY_RETENTION, then (SQLite) gives the freed pages back.
 *
 * Every write goes through the queue writer (on SQLite its thread, so the
 * main thread never waits on a COMMIT) in batches of 100 messages, resting
 * after each four times as long as it took (so retention has at most a fifth
 * of the writer's time): acceptance and delivery writes queue behind one
 * small batch at most, never behind a whole pass.
 */
import type { Logger } from 'pino';
import type { Engine } from '../store/database.ts';
import type { QueueWriter } from '../queue/writer.ts';
import type { RetentionWrites } from './retention-writes.ts';
import type { SweepOutcome } from './sweeps.ts';

export interface RetentionSettings {
  /** null: bodies are kept for ever. */
  bodyRetentionMs: number | null;
  /** null: messages and their history are kept for ever. */
  historyRetentionMs: number | null;
  intervalMs: number;
}

export interface RetentionTuning {
  /** Messages looked at per batch. */
  batchSize?: number;
  /** Least rest between batches, so other writes get the writer in between. */
  pauseMs?: number;
  /**
   * The most of the writer's time retention takes: after a batch that took t ms it rests
   * t × (1 / share − 1) ms, so a slow disk slows retention, not acceptance. 1: no rest.
   */
  writerShare?: number;
  /** Free pages given back per incremental-vacuum step (SQLite). */
  vacuumPages?: number;
  /** First pass this long after start; tests shorten it. */
  firstPassAfterMs?: number;
}

export interface RetentionReport {
  usageRows: number;
  bodiesExpired: number;
  messagesDeleted: number;
  /** Caught "receive here" messages deleted at their expiry. */
  caughtDeleted: number;
  /** Body bytes no longer held, per account. */
  freed: Map<string, number>;
  /** SQLite pages given back to the file system. */
  pagesReleased: number;
}

export interface RetentionJob {
  /** Runs a pass now (if this node gets the lease); null when another node holds it. */
  runPass(now?: number): Promise<RetentionReport | null>;
  stop(): Promise<void>;
}

export interface RetentionDeps {
  writer: QueueWriter<RetentionWrites>;
  engine: Engine;
  nodeId: string;
  settings: RetentionSettings;
  logger: Logger;
}

const JOB = 'retention';
/** Long enough for any pass between two renewals (the lease is renewed every batch). */
const WORKING_LEASE_MS = 5 * 60_000;

export function startRetentionJob(deps: RetentionDeps, tuning: RetentionTuning = {}): RetentionJob {
  const batchSize = tuning.batchSize ?? 100;
  const pauseMs = tuning.pauseMs ?? 20;
  const restFactor = 1 / Math.min(1, Math.max(0.01, tuning.writerShare ?? 0.2)) - 1;
  const vacuumPages = tuning.vacuumPages ?? 256;
  const { writer, nodeId, settings, logger } = deps;
  let stopping = false;
  let running: Promise<RetentionReport | null> | null = null;

  const lease = (ttlMs: number) => writer.run('takeJobLease', { name: JOB, owner: nodeId, now: Date.now(), ttlMs });
  const pause = (busyMs: number) => new Promise((resolve) => setTimeout(resolve, Math.max(pauseMs, busyMs * restFactor)));

  async function sweep(kind: 'expireBodies' | 'deleteHistory', retentionMs: number, now: number, report: RetentionReport): Promise<boolean> {
    let after: string | null = null;
    while (!stopping) {
      const started = performance.now();
      const outcome: SweepOutcome = await writer.run(kind, { now, cutoff: now - retentionMs, after, limit: batchSize });
      const busyMs = performance.now() - started;
      if (kind === 'expireBodies') report.bodiesExpired += outcome.affected;
      else report.messagesDeleted += outcome.affected;
      for (const { accountId, bytes } of outcome.freed) report.freed.set(accountId, (report.freed.get(accountId) ?? 0) + bytes);
      if (outcome.examined < batchSize) return true;
      after = outcome.last;
      if (!(await lease(WORKING_LEASE_MS))) return false; // lost it (a long stall): the new holder carries on
      await pause(busyMs);
    }
    return false;
  }

  /** Caught mail carries its own expiry; always on (it is kept only for a short time by design). */
  async function sweepCaughtMail(now: number, report: RetentionReport): Promise<boolean> {
    while (!stopping) {
      const started = performance.now();
      const deleted = await writer.run('deleteCaughtMail', { now, limit: batchSize });
      report.caughtDeleted += deleted;
      if (deleted < batchSize) return true;
      if (!(await lease(WORKING_LEASE_MS))) return false;
      await pause(performance.now() - started);
    }
    return false;
  }

  async function pass(now: number): Promise<RetentionReport | null> {
    if (!(await lease(WORKING_LEASE_MS))) return null;
    const report: RetentionReport = { usageRows: 0, bodiesExpired: 0, messagesDeleted: 0, caughtDeleted: 0, freed: new Map(), pagesReleased: 0 };
    report.usageRows = await writer.run('pruneUsage', { now });
    let held = await sweepCaughtMail(now, report);
    // History first: a message past both cut-offs is deleted whole, not first emptied row by row
    // (after a long outage, or on a store that never ran retention, that is most of them).
    if (held && settings.historyRetentionMs !== null) held = await sweep('deleteHistory', settings.historyRetentionMs, now, report);
    if (held && settings.bodyRetentionMs !== null) held = await sweep('expireBodies', settings.bodyRetentionMs, now, report);
    if (held && deps.engine === 'sqlite') {
      // On a database made before auto_vacuum=INCREMENTAL this frees nothing; SQLite reuses the pages instead.
      let free = await writer.run('incrementalVacuum', { pages: 0 }).catch(() => 0);
      while (free > 0 && !stopping) {
        const before = free;
        const started = performance.now();
        free = await writer.run('incrementalVacuum', { pages: vacuumPages });
        report.pagesReleased += Math.max(0, before - free);
        if (free >= before) break;
        await pause(performance.now() - started);
      }
    }
    // Kept until the next pass is due, so the other nodes skip this round instead of sweeping again.
    if (held && !stopping) await lease(settings.intervalMs + WORKING_LEASE_MS);
    if (report.bodiesExpired + report.messagesDeleted + report.usageRows + report.caughtDeleted > 0) {
      logger.info({ event: 'retention.pass', usageRows: report.usageRows, bodiesExpired: report.bodiesExpired, messagesDeleted: report.messagesDeleted, caughtDeleted: report.caughtDeleted, pagesReleased: report.pagesReleased },
        `retention: ${report.bodiesExpired} bodies expired, ${report.messagesDeleted} messages deleted, ${report.caughtDeleted} caught messages deleted, ${report.usageRows} usage rows pruned`);
    }
    return report;
  }

  function runPass(now = Date.now()): Promise<RetentionReport | null> {
    // One pass at a time in this process; a caller during a pass waits for it and runs its own.
    const previous = running ?? Promise.resolve(null);
    const next = previous.catch(() => null).then(() => pass(now));
    running = next;
    return next;
  }

  const tick = () => {
    if (stopping) return;
    runPass().catch((error) => logger.warn({ err: error, event: 'retention.failed' }, 'retention pass failed; the next interval tries again'))
      .finally(() => { if (!stopping) timer = setTimeout(tick, settings.intervalMs).unref(); });
  };
  let timer = setTimeout(tick, tuning.firstPassAfterMs ?? Math.min(settings.intervalMs, 60_000)).unref();

  return {
    runPass,
    async stop() {
      stopping = true;
      clearTimeout(timer);
      await running?.catch(() => null);
      await writer.run('releaseJobLease', { name: JOB, owner: nodeId }).catch(() => {});
    },
  };
}
