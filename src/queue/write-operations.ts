/**
 * Every write the queue makes on the hot path, as a named operation that runs
 * in a transaction it is given. Named, so the queue writer (writer.ts) can
 * run them in this thread or hand them to the SQLite writer thread by name;
 * their arguments and results are plain data for the same reason (Buffers
 * arrive on the writer thread as Uint8Arrays and are turned back here).
 */
import type { Kysely } from 'kysely';
import type { Engine } from '../store/database.ts';
import type { Database } from '../store/schema.ts';
import { claimDueDeliveries, type ClaimRequest } from './claim-deliveries.ts';
import { commitSubmissions, type Submission } from './enqueue.ts';
import { recordOutcomes, rememberSignature, type AttemptRecord } from './record-outcomes.ts';
import { extendLeases, releaseLeases, type LeaseExtension, type LeaseRelease } from './lease.ts';
import { recordLoginFailure, type LoginFailure } from '../store/login-failures.ts';
import { holdBack, type HoldBack } from './hold-back.ts';
import { addSiteStats, applyIncrease, applySignal, type SignalChange, type StatsDelta } from './shaping-store.ts';
import { touchSecretKeys, type KeyUse } from '../accounts/keys.ts';
import { recordSmtpSessions, type SessionLogRow } from '../doctor/session-log-writes.ts';
import { deleteExpiredCaughtMail, deleteHistory, expireBodies, pruneUsageRows, type SweepBatch } from '../retention/sweeps.ts';
import { releaseJobLease, takeJobLease, type JobLeaseRequest } from '../store/job-lease.ts';
import { sql } from 'kysely';
import { cancelScheduled, releaseDueScheduled, type CancelRequest } from './schedule.ts';
import { fanOutEvents } from '../events/webhooks-fanout.ts';
import { claimWebhookDeliveries, releaseClaim as releaseWebhookClaim } from '../events/webhooks-outbox.ts';
import type { Backoff } from './retry.ts';
import { recordAttempt as recordWebhookAttempt, type AttemptResult as WebhookResult, type OutboxRow } from '../events/webhooks-send.ts';
import { applyInboundReport } from '../events/feedback.ts';
import type { InboundReport } from '../events/inbound-report.ts';
import { catchMessage, type CaughtMail } from '../events/caught-mail.ts';

type Operation<A, R> = (tx: Kysely<Database>, engine: Engine, args: A) => Promise<R>;
const operation = <A, R>(run: Operation<A, R>): Operation<A, R> => run;

export const WRITE_OPERATIONS = {
  /** Durable acceptance of a batch of submissions (see enqueue.ts). */
  commitSubmissions: operation((tx, engine, { submissions, now, storageBudget }: { submissions: readonly Submission[]; now: number; storageBudget?: number | null }) =>
    commitSubmissions(tx, engine, submissions.map((s) => ({ ...s, raw: asBuffer(s.raw) })), now, storageBudget ?? null)),
  claimDeliveries: operation((tx, engine, request: ClaimRequest) => claimDueDeliveries(tx, engine, request)),
  rememberSignature: operation((tx, _engine, { messageId, signature }: { messageId: string; signature: string }) =>
    rememberSignature(tx, messageId, signature)),
  recordAttempt: operation(async (tx, engine, record: AttemptRecord) => (await recordOutcomes(tx, engine, [withBuffer(record)]))[0]),
  extendLeases: operation((tx, engine, extension: LeaseExtension) => extendLeases(tx, engine, extension)),
  releaseLeases: operation((tx, _engine, release: LeaseRelease) => releaseLeases(tx, release)),
  /** The login throttle's counters (smtp/auth-throttle.ts): off the main thread like every other write. */
  recordLoginFailure: operation((tx, _engine, failure: LoginFailure) => recordLoginFailure(tx, failure)),
  /** Deliveries a site asked us to hold back: not an attempt (see hold-back.ts). */
  holdBack: operation((tx, _engine, request: HoldBack) => holdBack(tx, request)),
  /** Shared shaping (shaping-store.ts): a throttling or block signal, one step up, and the nodes' statistics. */
  siteSignal: operation((tx, engine, change: SignalChange) => applySignal(tx, engine, change)),
  siteIncrease: operation((tx, _engine, change: { site: string; seenChangedAt: number; now: number; defaultConcurrency: number }) => applyIncrease(tx, change)),
  siteStats: operation((tx, engine, report: { now: number; sites: readonly StatsDelta[] }) => addSiteStats(tx, engine, report)),
  /** Last-used times of secret keys, buffered for about a second (accounts/key-use-log.ts). */
  touchSecretKeys: operation((tx, _engine, { uses }: { uses: readonly KeyUse[] }) => touchSecretKeys(tx, uses)),
  /** The Send-As doctor's session log, buffered for about a second (doctor/session-recorder.ts). */
  recordSmtpSessions: operation((tx, _engine, { rows, keep }: { rows: readonly SessionLogRow[]; keep: number }) => recordSmtpSessions(tx, rows, keep)),
  // Retention (retention/job.ts): off the main thread on SQLite like every other write, in small batches.
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
  /** Scheduled sends (schedule.ts): due ones to `queued`, and cancelling those not yet due. */
  releaseScheduled: operation((tx, _engine, { now }: { now: number }) => releaseDueScheduled(tx, now)),
  cancelScheduled: operation((tx, _engine, request: CancelRequest) => cancelScheduled(tx, request)),
  /** Webhooks (events/webhooks-dispatcher.ts): new events into the outbox, and its rows claimed, settled or given back. */
  fanOutEvents: operation((tx, engine, { limit, now }: { limit: number; now: number }) => fanOutEvents(tx, engine, limit, now)),
  claimWebhookDeliveries: operation((tx, engine, { owner, now, leaseMs, limit }: { owner: string; now: number; leaseMs: number; limit: number }) =>
    claimWebhookDeliveries(tx, engine, owner, now, leaseMs, limit)),
  recordWebhookAttempt: operation((tx, _engine, { row, owner, result, now, policy, final }: { row: OutboxRow; owner: string; result: WebhookResult; now: number; policy: Backoff; final?: boolean }) =>
    recordWebhookAttempt(tx, row, owner, result, now, policy, final)),
  releaseWebhookClaim: operation((tx, _engine, { rowId, owner, now }: { rowId: string; owner: string; now: number }) => releaseWebhookClaim(tx, rowId, owner, now)),
  /** A DSN or complaint that arrived at the mx role (smtp/inbound.ts), for the deliveries its VERP addresses name. */
  /** A message caught for a "receive here" address (smtp/inbound-caught.ts). */
  catchMail: operation((tx, _engine, mail: CaughtMail) => catchMessage(tx, { ...mail, request: { ...mail.request, raw: asBuffer(mail.request.raw) } })),
  applyInboundReport: operation(async (tx, _engine, { tokens, report, now }: { tokens: readonly string[]; report: InboundReport; now: number }) => {
    let changed = 0;
    for (const token of tokens) changed += await applyInboundReport(tx, token, report, now);
    return changed;
  }),
};

export type OperationName = keyof typeof WRITE_OPERATIONS;
export type OperationArgs<N extends OperationName> = Parameters<(typeof WRITE_OPERATIONS)[N]>[2];
export type OperationResult<N extends OperationName> = Awaited<ReturnType<(typeof WRITE_OPERATIONS)[N]>>;

/**
 * The arguments as they should cross to another thread. A structured clone copies a Buffer's
 * whole backing store, and small Buffers are views into a shared 8 KB pool slab: a 1 KB
 * message would cost an 8 KB copy. So bodies cross as exact copies, and an attempt record
 * carries the message body only when it may need it (a DSN for a recipient that failed).
 */
export function forTransfer<N extends OperationName>(name: N, args: OperationArgs<N>): OperationArgs<N> {
  if (name === 'commitSubmissions') {
    const { submissions, now, storageBudget } = args as OperationArgs<'commitSubmissions'>;
    return { submissions: submissions.map((s) => ({ ...s, raw: exactBytes(s.raw) })), now, storageBudget } as OperationArgs<N>;
  }
  if (name === 'recordAttempt') {
    // Only what recording reads: every object and string crossing costs serialising time.
    const record = args as OperationArgs<'recordAttempt'>;
    const { id, mailFrom, createdAt, raw } = record.message;
    const mayBounce = [...record.outcomes.values()].some((outcome) => outcome.kind !== 'delivered');
    const deliveries = record.deliveries.map((d) => ({ id: d.id, account_id: d.account_id, recipient: d.recipient, attempt_count: d.attempt_count, created_at: d.created_at }));
    return { ...record, deliveries, message: { id, mailFrom, createdAt, raw: mayBounce ? exactBytes(raw) : EMPTY } } as OperationArgs<N>;
  }
  return args;
}

const EMPTY = Buffer.from(new ArrayBuffer(0));

function exactBytes(bytes: Buffer): Buffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  // Not Buffer.from(bytes): a small copy would land in the pool again.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return Buffer.from(copy.buffer);
}

/**
 * Operations whose requests of one batch run as one call: one statement for all of
 * them instead of one per request (multi-row inserts, UPDATE … FROM unnest).
 */
const RUN_TOGETHER: { [N in OperationName]?: (tx: Kysely<Database>, engine: Engine, requests: ReadonlyArray<OperationArgs<N>>) => Promise<Array<OperationResult<N>>> } = {
  async commitSubmissions(tx, engine, requests) {
    const submissions = requests.flatMap((r) => r.submissions.map((s) => ({ ...s, raw: asBuffer(s.raw) })));
    // One clock for the commit: they all become durable at its end.
    const now = Math.max(...requests.map((r) => r.now));
    const results = await commitSubmissions(tx, engine, submissions, now, requests[0].storageBudget ?? null);
    let next = 0;
    return requests.map((r) => results.slice(next, (next += r.submissions.length)));
  },
  recordAttempt: (tx, engine, requests) => recordOutcomes(tx, engine, requests.map(withBuffer)),
};

export interface WriteRequest {
  name: OperationName;
  args: unknown;
}

/**
 * The order operations run in within a batch, whatever order they were asked in: the same
 * on every node, so two nodes' batches take their row locks in the same order and cannot
 * deadlock on them; acceptance last, so the account rows it locks (the daily limit) are held
 * for the shortest time: from its statement to the COMMIT.
 */
const RANK = new Map<string, number>([...Object.keys(WRITE_OPERATIONS).filter((name) => name !== 'commitSubmissions'), 'commitSubmissions'].map((name, rank) => [name, rank]));

/**
 * A batch of requests in the caller's transaction, answered in the order asked: requests of
 * an operation that can run together run as one call; operations run in RANK's order.
 */
export async function runRequests(tx: Kysely<Database>, engine: Engine, requests: readonly WriteRequest[]): Promise<unknown[]> {
  const results: unknown[] = new Array(requests.length);
  const done = new Set<number>();
  const order = requests.map((_, index) => index).sort((a, b) => RANK.get(requests[a].name)! - RANK.get(requests[b].name)! || a - b);
  for (const index of order) {
    const request = requests[index];
    if (done.has(index)) continue;
    const together = RUN_TOGETHER[request.name] as ((tx: Kysely<Database>, engine: Engine, requests: unknown[]) => Promise<unknown[]>) | undefined;
    if (!together) {
      results[index] = await runOperation(tx, engine, request.name, request.args as never);
      continue;
    }
    const indexes = order.filter((at) => requests[at].name === request.name && !done.has(at));
    const answers = await together(tx, engine, indexes.map((at) => requests[at].args));
    indexes.forEach((at, k) => { results[at] = answers[k]; done.add(at); });
  }
  return results;
}

function withBuffer(record: AttemptRecord): AttemptRecord {
  return { ...record, message: { ...record.message, raw: asBuffer(record.message.raw) } };
}

export function runOperation<N extends OperationName>(tx: Kysely<Database>, engine: Engine, name: N, args: OperationArgs<N>): Promise<OperationResult<N>> {
  const run = WRITE_OPERATIONS[name] as Operation<OperationArgs<N>, OperationResult<N>>;
  return run(tx, engine, args);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
