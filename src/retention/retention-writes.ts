/**
 * The writes of retention (job.ts) for the queue writer (queue/write-set.ts): off the main
 * thread on SQLite like every other write, in small batches.
 */
import { sql } from 'kysely';
import { deleteExpiredCaughtMail, deleteHistory, expireBodies, pruneUsageRows, type SweepBatch } from './sweeps.ts';
import { releaseJobLease, takeJobLease, type JobLeaseRequest } from '../store/job-lease.ts';
import { operation, writeSet } from '../queue/write-set.ts';

const OPERATIONS = {
  takeJobLease: operation((tx, _engine, request: JobLeaseRequest) => takeJobLease(tx, request)),
  releaseJobLease: operation((tx, _engine, request: { name: string; owner: string }) => releaseJobLease(tx, request)),
  expireBodies: operation((tx, _engine, batch: SweepBatch) => expireBodies(tx, batch)),
  deleteHistory: operation((tx, _engine, batch: SweepBatch) => deleteHistory(tx, batch)),
  pruneUsage: operation((tx, _engine, args: { now: number }) => pruneUsageRows(tx, args)),
  deleteCaughtMail: operation((tx, _engine, args: { now: number; limit: number }) => deleteExpiredCaughtMail(tx, args)),
  /** SQLite only: gives up to `pages` free pages back to the file system (0: none); answers how many remain free. */
  incrementalVacuum: operation(async (tx, _engine, { pages }: { pages: number }) => {
    // Not with 0: incremental_vacuum(0) frees the whole free list in one go.
    if (pages > 0) await sql`pragma incremental_vacuum(${sql.lit(Math.floor(pages))})`.execute(tx);
    const { rows } = await sql<{ freelist_count: number }>`pragma freelist_count`.execute(tx);
    return Number(rows[0]?.freelist_count ?? 0);
  }),
};

export const RETENTION_WRITES = writeSet({
  operations: OPERATIONS,
  // PostgreSQL: the job's lease and the sweeps lock rows every node shares: not for a whole batch.
  onPostgres: {
    takeJobLease: 'own-transaction', releaseJobLease: 'own-transaction', expireBodies: 'own-transaction', deleteHistory: 'own-transaction', pruneUsage: 'own-transaction',
  },
});
export type RetentionWrites = typeof OPERATIONS;
