/**
 * The queue's own writes (durable acceptance, claims, leases, outcomes, shaping,
 * scheduled sends) as named operations for the queue writer: see write-set.ts.
 * The node's whole set, with the other folders' writes, is src/write-operations.ts.
 */
import type { Kysely } from 'kysely';
import type { Engine } from '../store/database.ts';
import type { Database } from '../store/schema.ts';
import { claimDueDeliveries, type ClaimRequest } from './claim-deliveries.ts';
import { commitSubmissions, type Submission } from './enqueue.ts';
import { recordOutcomes, rememberSignature, type AttemptRecord } from './record-outcomes.ts';
import { extendLeases, releaseLeases, type LeaseExtension, type LeaseRelease } from './lease.ts';
import { holdBack, type HoldBack } from './hold-back.ts';
import { addSiteStats, applyIncrease, applySignal, type SignalChange, type StatsDelta } from './shaping-store.ts';
import { cancelScheduled, releaseDueScheduled, type CancelRequest } from './schedule.ts';
import { asBuffer, operation, writeSet, type OperationArgs } from './write-set.ts';

const OPERATIONS = {
  /** Durable acceptance of a batch of submissions (see enqueue.ts). */
  commitSubmissions: operation((tx, engine, { submissions, now, storageBudget }: { submissions: readonly Submission[]; now: number; storageBudget?: number | null }) =>
    commitSubmissions(tx, engine, submissions.map((s) => ({ ...s, raw: asBuffer(s.raw) })), now, storageBudget ?? null)),
  claimDeliveries: operation((tx, engine, request: ClaimRequest) => claimDueDeliveries(tx, engine, request)),
  rememberSignature: operation((tx, _engine, { messageId, signature }: { messageId: string; signature: string }) =>
    rememberSignature(tx, messageId, signature)),
  recordAttempt: operation(async (tx, engine, record: AttemptRecord) => (await recordOutcomes(tx, engine, [withBuffer(record)]))[0]),
  extendLeases: operation((tx, engine, extension: LeaseExtension) => extendLeases(tx, engine, extension)),
  releaseLeases: operation((tx, _engine, release: LeaseRelease) => releaseLeases(tx, release)),
  /** Deliveries a site asked us to hold back: not an attempt (see hold-back.ts). */
  holdBack: operation((tx, _engine, request: HoldBack) => holdBack(tx, request)),
  /** Shared shaping (shaping-store.ts): a throttling or block signal, one step up, and the nodes' statistics. */
  siteSignal: operation((tx, engine, change: SignalChange) => applySignal(tx, engine, change)),
  siteIncrease: operation((tx, _engine, change: { site: string; seenChangedAt: number; now: number; defaultConcurrency: number }) => applyIncrease(tx, change)),
  siteStats: operation((tx, engine, report: { now: number; sites: readonly StatsDelta[] }) => addSiteStats(tx, engine, report)),
  /** Scheduled sends (schedule.ts): due ones to `queued`, and cancelling those not yet due. */
  releaseScheduled: operation((tx, _engine, { now }: { now: number }) => releaseDueScheduled(tx, now)),
  cancelScheduled: operation((tx, _engine, request: CancelRequest) => cancelScheduled(tx, request)),
};

type Args<N extends keyof typeof OPERATIONS> = OperationArgs<typeof OPERATIONS, N>;

export const QUEUE_WRITES = writeSet({
  operations: OPERATIONS,
  together: {
    async commitSubmissions(tx: Kysely<Database>, engine: Engine, requests: ReadonlyArray<Args<'commitSubmissions'>>) {
      const submissions = requests.flatMap((r) => r.submissions.map((s) => ({ ...s, raw: asBuffer(s.raw) })));
      // One clock for the commit: they all become durable at its end.
      const now = Math.max(...requests.map((r) => r.now));
      const results = await commitSubmissions(tx, engine, submissions, now, requests[0].storageBudget ?? null);
      let next = 0;
      return requests.map((r) => results.slice(next, (next += r.submissions.length)));
    },
    recordAttempt: (tx: Kysely<Database>, engine: Engine, requests: ReadonlyArray<Args<'recordAttempt'>>) => recordOutcomes(tx, engine, requests.map(withBuffer)),
  },
  /**
   * A structured clone copies a Buffer's whole backing store, and small Buffers are views into
   * a shared 8 KB pool slab: a 1 KB message would cost an 8 KB copy. So bodies cross as exact
   * copies, and an attempt record carries the message body only when it may need it (a DSN for
   * a recipient that failed).
   */
  forTransfer: {
    commitSubmissions: ({ submissions, now, storageBudget }: Args<'commitSubmissions'>) =>
      ({ submissions: submissions.map((s) => ({ ...s, raw: exactBytes(s.raw) })), now, storageBudget }),
    recordAttempt(record: Args<'recordAttempt'>) {
      // Only what recording reads: every object and string crossing costs serialising time.
      const { id, mailFrom, createdAt, raw } = record.message;
      const mayBounce = [...record.outcomes.values()].some((outcome) => outcome.kind !== 'delivered');
      const deliveries = record.deliveries.map((d) => ({ id: d.id, account_id: d.account_id, recipient: d.recipient, attempt_count: d.attempt_count, created_at: d.created_at }));
      return { ...record, deliveries, message: { id, mailFrom, createdAt, raw: mayBounce ? exactBytes(raw) : EMPTY } } as Args<'recordAttempt'>;
    },
  },
  // PostgreSQL: claims and lease changes never wait behind a batch; shaping rows are shared by every node.
  onPostgres: {
    claimDeliveries: 'single-statement', rememberSignature: 'single-statement', extendLeases: 'single-statement', releaseLeases: 'single-statement',
    holdBack: 'single-statement', releaseScheduled: 'single-statement',
    siteSignal: 'own-transaction', siteIncrease: 'own-transaction', siteStats: 'own-transaction',
  },
  // Acceptance last in a batch: the account rows it locks (the daily limit) are held from its statement to the COMMIT only.
  last: ['commitSubmissions'],
});

export type QueueWrites = typeof OPERATIONS;

const EMPTY = Buffer.from(new ArrayBuffer(0));

function exactBytes(bytes: Buffer): Buffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  // Not Buffer.from(bytes): a small copy would land in the pool again.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return Buffer.from(copy.buffer);
}

function withBuffer(record: AttemptRecord): AttemptRecord {
  return { ...record, message: { ...record.message, raw: asBuffer(record.message.raw) } };
}
