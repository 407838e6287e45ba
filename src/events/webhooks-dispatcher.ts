/**
 * The webhook dispatcher: a loop on every node that runs `http` or
 * `delivery`. Each turn it moves new message events into the outbox
 * (webhooks-fanout.ts), claims due outbox rows with a lease, and sends them
 * (webhooks-send.ts). Everything it knows lives in the store, so a node that
 * stops or dies loses nothing: unsent rows fall due again for any node.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Store } from '../store/database.ts';
import type { QueueWriter } from '../queue/writer.ts';
import type { EventWrites } from './event-writes.ts';
import type { ClaimedWebhookDelivery } from './webhooks-outbox.ts';
import type { Backoff } from '../queue/retry.ts';
import { DEFAULT_RETRY, postWebhook } from './webhooks-send.ts';
import { pruneWebhookDeliveries } from './webhooks.ts';

export interface WebhookDispatcherOptions {
  /** Idle wait between turns. */
  pollIntervalMs?: number;
  /** Outbox rows claimed per turn. */
  batchSize?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /** How long a claimed row stays ours; longer than a request can take. */
  leaseMs?: number;
  requestTimeoutMs?: number;
  retry?: Partial<Backoff>;
  /** Delivered and failed rows are deleted after this long. */
  keepHistoryMs?: number;
  now?: () => number;
}

export interface WebhookDispatcherDeps {
  store: Store;
  /** Every outbox write (fan-out, claims, outcomes) goes through the queue writer, off the main thread on SQLite. */
  writer: QueueWriter<EventWrites>;
  logger: Logger;
  nodeId: string;
  options?: WebhookDispatcherOptions;
}

const FANOUT_BATCH = 500;
const PRUNE_EVERY_MS = 60 * 60_000;

export function startWebhookDispatcher(deps: WebhookDispatcherDeps): { stop(): Promise<void> } {
  const { store, writer, logger } = deps;
  const releaseClaim = (rowId: string) => writer.run('releaseWebhookClaim', { rowId, owner, now: now() });
  const options = deps.options ?? {};
  const now = options.now ?? Date.now;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const batchSize = options.batchSize ?? 50;
  const concurrency = options.concurrency ?? 8;
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const leaseMs = options.leaseMs ?? requestTimeoutMs * 3;
  const retry: Backoff = { ...DEFAULT_RETRY, ...options.retry };
  const keepHistoryMs = options.keepHistoryMs ?? 30 * 24 * 60 * 60_000;
  // Unique per dispatcher, so two in one process (tests) never share a lease.
  const owner = `${deps.nodeId}/${randomBytes(4).toString('hex')}`;
  const stopping = new AbortController();
  let timer: NodeJS.Timeout | null = null;
  let turn: Promise<void> | null = null;
  let lastPrune = 0;

  async function send(row: ClaimedWebhookDelivery): Promise<void> {
    const result = await postWebhook(row, { now: now(), timeoutMs: requestTimeoutMs, signal: stopping.signal });
    if (stopping.signal.aborted && !result.ok) return releaseClaim(row.id);
    const state = await writer.run('recordWebhookAttempt', { row, owner, result, now: now(), policy: retry });
    const log = { event: 'webhook.attempt', delivery: row.id, webhook: row.webhook_id, type: row.event_type, status: result.statusCode, state };
    if (result.ok) logger.debug(log, 'webhook delivered');
    else logger.info({ ...log, error: result.error }, state === 'failed' ? 'webhook given up' : 'webhook attempt failed');
  }

  async function runTurn(): Promise<number> {
    while (!stopping.signal.aborted && (await writer.run('fanOutEvents', { limit: FANOUT_BATCH, now: now() })) === FANOUT_BATCH);
    if (now() - lastPrune > PRUNE_EVERY_MS) {
      lastPrune = now();
      await pruneWebhookDeliveries(store, now() - keepHistoryMs);
    }
    if (stopping.signal.aborted) return 0;
    const claimedAt = now();
    const claimed = await writer.run('claimWebhookDeliveries', { owner, now: claimedAt, leaseMs, limit: batchSize });
    let next = 0;
    const worker = async () => {
      while (next < claimed.length) {
        const row = claimed[next++];
        // A row whose lease could run out mid-request goes back: another node may take it then, and would send it twice.
        const leaseLeft = claimedAt + leaseMs - now();
        if (stopping.signal.aborted || leaseLeft < requestTimeoutMs + 1000) await releaseClaim(row.id);
        else await send(row);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, claimed.length) }, worker));
    return claimed.length;
  }

  function schedule(delayMs: number): void {
    if (stopping.signal.aborted) return;
    timer = setTimeout(() => {
      timer = null;
      turn = runTurn().then(
        (claimed) => schedule(claimed === batchSize ? 0 : pollIntervalMs),
        (error) => {
          logger.warn({ err: error, event: 'webhook.dispatch_error' }, 'webhook dispatch failed; retrying');
          schedule(pollIntervalMs);
        },
      );
    }, delayMs);
  }

  schedule(0);
  return {
    async stop() {
      stopping.abort();
      if (timer) clearTimeout(timer);
      await turn?.catch(() => {});
    },
  };
}
