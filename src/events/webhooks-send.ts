/**
 * One webhook attempt: POST the signed payload, then write down what came of
 * it — delivered, or pending again after an exponential backoff, or failed
 * once the retry window is over. Only the dispatcher that holds the row's
 * lease may write its result.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { SIGNATURE_HEADER, signatureHeader } from './webhooks-signature.ts';
import { backoffRetry, nextTry, type Backoff } from '../queue/retry.ts';
import { WEBHOOK_OUTBOX, type WebhookDeliveryStatus } from './webhooks-outbox.ts';

/** Backoff of a failing endpoint: 30 s, doubling up to an hour, for three days. */
export const DEFAULT_RETRY: Backoff = { firstDelayMs: 30_000, maxDelayMs: 60 * 60_000, giveUpAfterMs: 3 * 24 * 60 * 60_000 };

export interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export interface OutboxRow {
  id: string;
  url: string;
  secret: string;
  payload: string;
  event_type: string;
  attempt_count: number;
  created_at: number;
}

export async function postWebhook(row: OutboxRow, options: { now: number; timeoutMs: number; signal?: AbortSignal }): Promise<AttemptResult> {
  const started = performance.now();
  const signals = [AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])];
  const duration = () => Math.round(performance.now() - started);
  try {
    const response = await fetch(row.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.any(signals),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Mailroom-Webhooks/1',
        'mailroom-event': row.event_type,
        'mailroom-delivery': row.id,
        [SIGNATURE_HEADER]: signatureHeader(row.secret, row.payload, Math.floor(options.now / 1000)),
      },
      body: row.payload,
    });
    const ok = response.status >= 200 && response.status < 300;
    const text = ok ? '' : (await response.text().catch(() => '')).slice(0, 200);
    if (ok) await response.body?.cancel().catch(() => {});
    return { ok, statusCode: response.status, error: ok ? null : `HTTP ${response.status}${text ? `: ${text}` : ''}`, durationMs: duration() };
  } catch (error) {
    return { ok: false, statusCode: null, error: describeFailure(error, options.timeoutMs), durationMs: duration() };
  }
}

/**
 * Writes the attempt and the row's new state, in the caller's transaction (the queue writer's);
 * returns that state ('lost' when the lease had passed to someone else).
 */
export async function recordAttempt(
  tx: Kysely<Database>, row: OutboxRow, owner: string, result: AttemptResult, now: number, backoff: Backoff, final = false,
): Promise<WebhookDeliveryStatus | 'lost'> {
  const failures = row.attempt_count + 1;
  const next = nextTry(backoffRetry(backoff), failures, row.created_at, now);
  const status = result.ok ? 'delivered' : final || next.givesUp ? 'failed' : 'pending';
  const written = await WEBHOOK_OUTBOX.settle(tx, {
    id: row.id, owner, status,
    columns: {
      attempt_count: failures, next_attempt_at: status === 'pending' ? next.nextAttemptAt : now,
      last_status_code: result.statusCode, last_error: result.error, updated_at: now, delivered_at: result.ok ? now : null,
    },
  });
  if (!written) return 'lost';
  await tx.insertInto('webhook_attempts').values({
    delivery_id: row.id, at: now, status_code: result.statusCode, error: result.error, duration_ms: result.durationMs,
  }).execute();
  return status;
}

function describeFailure(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  if (e?.cause?.code) return `connection failed: ${e.cause.code}`;
  return `request failed: ${e?.cause?.message ?? e?.message ?? String(error)}`;
}
