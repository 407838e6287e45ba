/**
 * Writing down what attempts did, in one transaction: the attempt rows,
 * each delivery's new state, its events, suppressions for hard bounces, and
 * the DSN to the sender for every recipient that bounced or expired. Only
 * deliveries this worker still holds are touched: if its lease ran out and
 * another worker took over, that worker's record wins.
 */
import type { Kysely } from 'kysely';
import type { AttemptsTable, Database } from '../store/schema.ts';
import type { Engine } from '../store/database.ts';
import { settleDeliveries, type DeliverySettlement } from './settle-deliveries.ts';
import type { ClaimedDelivery } from './claim-deliveries.ts';
import { newId } from '../store/ids.ts';
import type { Outcome } from './outcome.ts';
import { isHardBounce } from '../remote-replies/verdict.ts';
import { buildDsn, type DsnRecipient } from './dsn.ts';
import { recordEvents, type MessageEvent } from './message-events.ts';
import { suppress } from '../suppressions/suppressions.ts';
import { insertQueuedMessages } from './enqueue.ts';
import { nextTry, scheduleRetry } from './retry.ts';

export interface AttemptRecord {
  owner: string;
  now: number;
  /** The message: its body only for a DSN (see forTransfer in write-operations.ts). */
  message: { id: string; mailFrom: string; createdAt: number; raw: Buffer };
  deliveries: ReadonlyArray<Pick<ClaimedDelivery, 'id' | 'account_id' | 'recipient' | 'attempt_count' | 'created_at'>>;
  outcomes: ReadonlyMap<string, Outcome>;
  hostname: string;
  retrySchedule: readonly number[];
  maxQueueTime: number;
}

export interface RecordedState {
  deliveryId: string;
  status: 'delivered' | 'deferred' | 'bounced' | 'expired';
  /** False when the lease had been lost and nothing was written. */
  written: boolean;
}

/**
 * Keeps the DKIM signature a first attempt made, so retries send identical
 * bytes. Its own short transaction, not the outcome's: the recipients of one
 * message on different domains are attempted at once, often by different
 * nodes, and each outcome transaction locking the message row as well as
 * its own deliveries would deadlock with the others.
 */
export async function rememberSignature(db: Kysely<Database>, messageId: string, signature: string): Promise<void> {
  await db.updateTable('messages').set({ dkim_signature: signature }).where('id', '=', messageId).where('dkim_signature', 'is', null).execute();
}

/**
 * The outcomes of many attempts (a group commit's worth) in the caller's
 * transaction, answered per attempt. Written together, a statement for all of
 * them rather than per delivery: the deliveries' new states (settleDeliveries),
 * the attempt rows, the events.
 */
export async function recordOutcomes(tx: Kysely<Database>, engine: Engine, records: readonly AttemptRecord[]): Promise<RecordedState[][]> {
  const planned = records.map((record) => planAttempt(record));
  const written = await settleDeliveries(tx, engine, planned.flatMap((plan) => plan.rows.map((row) => row.settlement)));
  const attempts: AttemptsRow[] = [];
  const events: MessageEvent[] = [];
  const answers: RecordedState[][] = [];
  for (const [index, plan] of planned.entries()) {
    const record = records[index];
    const { now, message } = record;
    const failed: DsnRecipient[] = [];
    answers.push(plan.rows.map(({ settlement }) => ({ deliveryId: settlement.id, status: settlement.status, written: written.has(settlement.id) })));
    for (const { delivery, outcome, settlement } of plan.rows) {
      if (!written.has(delivery.id)) continue;
      const status = settlement.status;
      attempts.push({
        delivery_id: delivery.id, message_id: message.id, at: now, outcome: outcome.kind, mx: outcome.mx, ip: outcome.ip,
        tls: JSON.stringify(outcome.tls), reply: outcome.reply, duration_ms: outcome.durationMs,
        mta_sts: outcome.mtaSts ? JSON.stringify(outcome.mtaSts) : null, rule: outcome.kind === 'delivered' ? null : outcome.rule,
      });
      const bounceClass = outcome.kind === 'bounced' ? outcome.bounceClass : null;
      // What webhooks need to explain the event in plain words and say when the next try is.
      const details = outcome.kind === 'delivered' ? null
        : status === 'deferred' ? { rule: outcome.rule, nextAttemptAt: settlement.nextAttemptAt, expiresAt: Number(delivery.created_at) + record.maxQueueTime }
        : { rule: outcome.rule };
      events.push({ accountId: delivery.account_id, messageId: message.id, deliveryId: delivery.id, recipient: delivery.recipient, type: status, reply: outcome.reply, bounceClass, at: now, details });
      if (outcome.kind === 'bounced' && delivery.account_id && isHardBounce(outcome.bounceClass)) {
        await suppress(tx, delivery.account_id, delivery.recipient, `hard bounce: ${outcome.reply}`.slice(0, 500), delivery.id);
        events.push({ accountId: delivery.account_id, messageId: message.id, deliveryId: delivery.id, recipient: delivery.recipient, type: 'suppressed', reply: outcome.reply, bounceClass, at: now });
      }
      if (status === 'bounced' || status === 'expired') {
        const reply = status === 'expired' ? `${outcome.reply} (gave up after ${settlement.attemptCount} attempts)` : outcome.reply;
        failed.push({ address: delivery.recipient, reply, remoteMta: outcome.mx, lastAttemptAt: new Date(now) });
      }
    }
    // Never bounce a bounce: mail with the null sender gets no DSN.
    if (failed.length > 0 && message.mailFrom) {
      const dsn = buildDsn({
        hostname: record.hostname, originalSender: message.mailFrom, originalMessage: message.raw,
        arrivalDate: new Date(message.createdAt), recipients: failed, queueId: message.id, now: new Date(now),
      });
      await insertQueuedMessages(tx, [{
        id: newId(), accountId: null, dailyLimit: null, mailFrom: '', headerFrom: `MAILER-DAEMON@${record.hostname}`,
        subject: 'Undelivered Mail Returned to Sender', raw: dsn, recipients: [message.mailFrom], source: 'dsn', tags: [],
        clientIp: null, idempotencyKey: null,
      }], now);
    }
  }
  // Multi-row inserts, chunked to stay under SQLite's bound-parameter limit.
  for (let i = 0; i < attempts.length; i += 200) await tx.insertInto('attempts').values(attempts.slice(i, i + 200)).execute();
  await recordEvents(tx, events);
  return answers;
}

type AttemptsRow = Omit<AttemptsTable, 'id'>;

interface PlannedRow {
  delivery: AttemptRecord['deliveries'][number];
  outcome: Outcome;
  settlement: DeliverySettlement & { status: RecordedState['status'] };
}

/** Each attempted delivery's next state: done, or due again after the retry schedule's next step, or expired. */
function planAttempt(record: AttemptRecord): { rows: PlannedRow[] } {
  // One jitter for the whole attempt: recipients that failed together come due together
  // and share the next transaction, as they shared this one.
  const jitter = Math.random();
  const retry = scheduleRetry(record.retrySchedule, record.maxQueueTime);
  const rows: PlannedRow[] = [];
  for (const delivery of record.deliveries) {
    const outcome = record.outcomes.get(delivery.recipient);
    if (!outcome) continue;
    const attempts = delivery.attempt_count + 1;
    let status: RecordedState['status'] = outcome.kind;
    let nextAttemptAt = record.now;
    if (outcome.kind === 'deferred') {
      const next = nextTry(retry, attempts, delivery.created_at, record.now, () => jitter);
      nextAttemptAt = next.nextAttemptAt;
      if (next.givesUp) status = 'expired';
    }
    rows.push({ delivery, outcome, settlement: { id: delivery.id, owner: record.owner, status, attemptCount: attempts, nextAttemptAt, reply: outcome.reply, now: record.now } });
  }
  return { rows };
}
