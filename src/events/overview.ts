/**
 * The dashboard's first page in numbers: what happened to an account's mail
 * in the last 24 hours (delivered, deferred, bounced — with the main reasons),
 * and what is waiting in the queue. Read from the deliveries table, which every
 * node shares, so any node shows the whole picture.
 */
import type { Store } from '../store/database.ts';
import { PENDING_STATUSES } from '../queue/delivery-status.ts';

export const OVERVIEW_WINDOW_MS = 24 * 60 * 60_000;
const REASON_ROWS = 500;
const TOP_REASONS = 3;

export interface Reason {
  /** One representative reply, as the remote server (or DNS) gave it. */
  reply: string;
  count: number;
}

export interface DeliveryOverview {
  /** Outcomes of the last 24 hours (deferred and queued: as they stand now). */
  counts: { delivered: number; deferred: number; bounced: number; expired: number; suppressed: number; queued: number };
  /** delivered / (delivered + bounced + expired) over the window; null when nothing finished. */
  deliveryRate: number | null;
  reasons: { deferred: Reason[]; bounced: Reason[] };
  queue: { depth: number; oldestQueuedAt: number | null };
}

export async function readDeliveryOverview(store: Store, accountId: string | null, now: number): Promise<DeliveryOverview> {
  const since = now - OVERVIEW_WINDOW_MS;
  const scoped = () => {
    const query = store.db.selectFrom('deliveries');
    return accountId === null ? query : query.where('account_id', '=', accountId);
  };
  const [finished, waiting, deferredReplies, bouncedReplies] = await Promise.all([
    scoped().select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('updated_at', '>', since).where('status', 'in', ['delivered', 'bounced', 'expired', 'suppressed', 'complained'])
      .groupBy('status').execute(),
    scoped().select(['status', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.min<number>('created_at').as('oldest')])
      .where('status', 'in', PENDING_STATUSES).groupBy('status').execute(),
    scoped().select('last_reply').where('status', '=', 'deferred').orderBy('updated_at', 'desc').limit(REASON_ROWS).execute(),
    scoped().select('last_reply').where('status', 'in', ['bounced', 'expired']).where('updated_at', '>', since)
      .orderBy('updated_at', 'desc').limit(REASON_ROWS).execute(),
  ]);
  const finishedCount = (status: string) => Number(finished.find((row) => row.status === status)?.n ?? 0);
  const waitingRow = (status: string) => waiting.find((row) => row.status === status);
  const counts = {
    delivered: finishedCount('delivered'), bounced: finishedCount('bounced'), expired: finishedCount('expired'), suppressed: finishedCount('suppressed'),
    deferred: Number(waitingRow('deferred')?.n ?? 0), queued: Number(waitingRow('queued')?.n ?? 0),
  };
  const ended = counts.delivered + counts.bounced + counts.expired;
  const oldest = waiting.map((row) => (row.oldest === null ? null : Number(row.oldest))).filter((at): at is number => at !== null);
  return {
    counts,
    deliveryRate: ended === 0 ? null : counts.delivered / ended,
    reasons: { deferred: mainReasons(deferredReplies), bounced: mainReasons(bouncedReplies) },
    queue: { depth: counts.queued + counts.deferred, oldestQueuedAt: oldest.length === 0 ? null : Math.min(...oldest) },
  };
}

/** Replies grouped by what they say, ignoring the ids and numbers servers put in each one. */
function mainReasons(rows: Array<{ last_reply: string | null }>): Reason[] {
  const groups = new Map<string, Reason>();
  for (const { last_reply: reply } of rows) {
    if (!reply) continue;
    const key = reasonKey(reply);
    const group = groups.get(key);
    if (group) group.count += 1;
    else groups.set(key, { reply, count: 1 });
  }
  return [...groups.values()].sort((a, b) => b.count - a.count).slice(0, TOP_REASONS);
}

/** The reply code, then the text with tokens that carry digits (queue ids, IPs, timestamps) blanked. */
export function reasonKey(reply: string): string {
  const [code = '', ...rest] = reply.trim().split(/\s+/);
  const text = rest.map((token) => (/^\d\.\d{1,3}\.\d{1,3}$/.test(token) || !/\d/.test(token) ? token : '#')).join(' ');
  return `${code} ${text}`.slice(0, 160).toLowerCase();
}
