/**
 * A weekly summary of each domain's DMARC reports, as a domain event (and so a webhook): how
 * much mail the receivers saw as the domain, how much passed, and which sources sent as it
 * without passing. A domain gets one once a week from its first report on, for the reports that
 * arrived in that week; a week without reports sends nothing.
 *
 * Scheduled like the daily re-check (recheck.ts): each domain's week is offset by a fixed jitter
 * drawn from its id, and a node takes a domain's summary by moving its `sent_at` forward only if
 * no other node did first, so every node may run the schedule and one sends each summary.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/database.ts';
import { recordEvents, type DmarcWeeklySummary } from '../queue/message-events.ts';
import { dmarcOverview } from './dmarc-reports.ts';
import { offsetOf } from './recheck.ts';
import { startPeriodicPass } from './periodic-pass.ts';

export interface DmarcSummaryOptions {
  store: Store;
  logger?: Logger;
  /** Between two summaries of one domain: a week. */
  intervalMs?: number;
  /** Each domain's fixed offset within this window, drawn from its id. */
  jitterMs?: number;
  now?: () => number;
}

const WEEK = 7 * 24 * 3600_000;
const MAX_PER_PASS = 200;
const FLAGGED_LISTED = 10;

/** One pass: sends the summary of every domain whose week is over and that no other node took first. */
export async function sendDueDmarcSummaries(opts: DmarcSummaryOptions): Promise<Array<{ domain: string; summary: DmarcWeeklySummary | null }>> {
  const now = (opts.now ?? Date.now)();
  const interval = opts.intervalMs ?? WEEK;
  const jitter = opts.jitterMs ?? 6 * 3600_000;
  const candidates = await opts.store.db.selectFrom('dmarc_reports as r')
    .innerJoin('domains as d', 'd.id', 'r.domain_id')
    .leftJoin('dmarc_summaries as s', 's.domain_id', 'r.domain_id')
    .select(['r.domain_id', 'd.name', 'd.account_id', 's.sent_at'])
    .select((eb) => eb.fn.min<number>('r.received_at').as('first_received'))
    .groupBy(['r.domain_id', 'd.name', 'd.account_id', 's.sent_at'])
    .limit(MAX_PER_PASS).execute();
  const results: Array<{ domain: string; summary: DmarcWeeklySummary | null }> = [];
  for (const candidate of candidates) {
    // The first week starts with the first report.
    const start = candidate.sent_at === null ? Number(candidate.first_received) - 1 : Number(candidate.sent_at);
    if (start + interval + offsetOf(candidate.domain_id, jitter) > now) continue;
    if (!(await claim(opts.store, candidate.domain_id, start, now))) continue;
    const overview = await dmarcOverview(opts.store, candidate.domain_id, start + 1, 'received_at');
    if (overview.reports === 0) {
      results.push({ domain: candidate.name, summary: null });
      continue;
    }
    const flagged = overview.sources.filter((s) => s.flagged);
    const summary: DmarcWeeklySummary = {
      from: start + 1, to: now, reports: overview.reports, messages: overview.messages, passed: overview.passed, failed: overview.failed,
      flaggedSources: flagged.slice(0, FLAGGED_LISTED).map((s) => ({ sourceIp: s.sourceIp, messages: s.messages, failed: s.failed })),
      flaggedCount: flagged.length,
    };
    await recordEvents(opts.store.db, [{
      accountId: candidate.account_id, messageId: '', deliveryId: null, recipient: null, at: now, type: 'dmarc_weekly_summary',
      reply: summaryText(candidate.name, summary), details: { domain: candidate.name, dmarc: summary },
    }]);
    opts.logger?.info({ event: 'domain.dmarc_summary', domain: candidate.name, ...summary }, summaryText(candidate.name, summary));
    results.push({ domain: candidate.name, summary });
  }
  return results;
}

/** Runs sendDueDmarcSummaries now and then every `tickMs`; errors are logged, never thrown. */
export function startDmarcSummaries(opts: DmarcSummaryOptions & { tickMs?: number }): { stop(): Promise<void> } {
  return startPeriodicPass(() => sendDueDmarcSummaries(opts), opts.tickMs ?? 10 * 60_000, (error) => {
    opts.logger?.warn({ err: error, event: 'domains.dmarc_summary_failed' }, 'could not send the weekly DMARC summaries');
  });
}

export function summaryText(domain: string, s: DmarcWeeklySummary): string {
  const sources = s.flaggedCount === 0 ? 'every source passed SPF or DKIM alignment'
    : `${s.flaggedCount} source${s.flaggedCount === 1 ? '' : 's'} sent as ${domain} without passing: ${s.flaggedSources.map((f) => `${f.sourceIp} (${f.failed})`).join(', ')}${s.flaggedCount > s.flaggedSources.length ? ', …' : ''}`;
  return `DMARC reports for ${domain} this week: ${s.reports} report${s.reports === 1 ? '' : 's'}, ${s.messages} messages, ${s.passed} passed, ${s.failed} failed; ${sources}`;
}

/** Takes the domain's summary unless another node already did (its sent_at moved). */
async function claim(store: Store, domainId: string, start: number, now: number): Promise<boolean> {
  await store.db.insertInto('dmarc_summaries').values({ domain_id: domainId, sent_at: start })
    .onConflict((oc) => oc.column('domain_id').doNothing()).execute();
  const result = await store.db.updateTable('dmarc_summaries').set({ sent_at: now })
    .where('domain_id', '=', domainId).where('sent_at', '=', start).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
