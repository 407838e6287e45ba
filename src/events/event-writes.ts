/** The writes of events/ for the queue writer (queue/write-set.ts): the webhooks' outbox, caught mail, reports that came back. */
import { fanOutEvents } from './webhooks-fanout.ts';
import { claimWebhookDeliveries, releaseClaim as releaseWebhookClaim } from './webhooks-outbox.ts';
import { recordAttempt as recordWebhookAttempt, type AttemptResult as WebhookResult, type OutboxRow } from './webhooks-send.ts';
import { applyInboundReport } from './feedback.ts';
import type { InboundReport } from './inbound-report.ts';
import { catchMessage, type CaughtMail } from './caught-mail.ts';
import type { Backoff } from '../queue/retry.ts';
import { asBuffer, operation, writeSet } from '../queue/write-set.ts';

const OPERATIONS = {
  /** Webhooks (webhooks-dispatcher.ts): new events into the outbox, and its rows claimed, settled or given back. */
  fanOutEvents: operation((tx, engine, { limit, now }: { limit: number; now: number }) => fanOutEvents(tx, engine, limit, now)),
  claimWebhookDeliveries: operation((tx, engine, { owner, now, leaseMs, limit }: { owner: string; now: number; leaseMs: number; limit: number }) =>
    claimWebhookDeliveries(tx, engine, owner, now, leaseMs, limit)),
  recordWebhookAttempt: operation((tx, _engine, { row, owner, result, now, policy, final }: { row: OutboxRow; owner: string; result: WebhookResult; now: number; policy: Backoff; final?: boolean }) =>
    recordWebhookAttempt(tx, row, owner, result, now, policy, final)),
  releaseWebhookClaim: operation((tx, _engine, { rowId, owner, now }: { rowId: string; owner: string; now: number }) => releaseWebhookClaim(tx, rowId, owner, now)),
  /** A message caught for a "receive here" address (smtp/inbound-caught.ts). */
  catchMail: operation((tx, _engine, mail: CaughtMail) => catchMessage(tx, { ...mail, request: { ...mail.request, raw: asBuffer(mail.request.raw) } })),
  /** A DSN or complaint that arrived at the mx role (smtp/inbound.ts), for the deliveries its VERP addresses name. */
  applyInboundReport: operation(async (tx, _engine, { tokens, report, now }: { tokens: readonly string[]; report: InboundReport; now: number }) => {
    let changed = 0;
    for (const token of tokens) changed += await applyInboundReport(tx, token, report, now);
    return changed;
  }),
};

export const EVENT_WRITES = writeSet({
  operations: OPERATIONS,
  // PostgreSQL: a claim reads its endpoints after, atomic alone; the feed's cursor is a row every node locks.
  onPostgres: { claimWebhookDeliveries: 'single-statement', releaseWebhookClaim: 'single-statement', fanOutEvents: 'own-transaction' },
});
export type EventWrites = typeof OPERATIONS;
