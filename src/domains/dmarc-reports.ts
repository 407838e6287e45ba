/**
 * DMARC aggregate reports of a sending domain: which domain an inbound report address stands
 * for, storing a parsed report once, and the per-source view the owner reads — for each IP
 * that sent mail with the domain in From, how much passed DMARC (DKIM or SPF aligned) and how
 * much did not.
 *
 * A source with mail that passed neither is flagged: something sends as the domain without
 * authenticating as it — somebody else using the domain, or a service of the owner's (a CRM,
 * a newsletter tool) that was never set up to sign for it.
 */
import type { Store } from '../store/database.ts';
import type { DomainsTable } from '../store/schema.ts';
import { newId } from '../store/ids.ts';
import { isUniqueViolation } from '../store/errors.ts';
import { DMARC_REPORT_LOCAL_PART } from './records.ts';
import { DmarcReportError, type DmarcReport } from './dmarc-report.ts';

/** The domain whose reports `address` (dmarc@<its return-path domain>) receives, or null. */
export async function domainOfReportAddress(store: Store, address: string): Promise<DomainsTable | null> {
  const bare = address.trim().replace(/^<(.*)>$/, '$1').toLowerCase();
  const at = bare.lastIndexOf('@');
  if (at <= 0 || bare.slice(0, at) !== DMARC_REPORT_LOCAL_PART) return null;
  return (await store.db.selectFrom('domains').selectAll().where('return_path_domain', '=', bare.slice(at + 1)).executeTakeFirst()) ?? null;
}

export type StoredReport = { outcome: 'stored' | 'duplicate'; id: string };

/**
 * Stores the report under the domain, unless the same report (organisation, report id) is
 * already there. A report about another domain is refused: the address belongs to this one.
 */
export async function storeDmarcReport(store: Store, domain: DomainsTable, report: DmarcReport, now: number): Promise<StoredReport> {
  const about = report.policy.domain;
  if (about !== domain.name && !about.endsWith(`.${domain.name}`)) {
    throw new DmarcReportError(`the report is about ${about}, not ${domain.name} (whose report address received it)`);
  }
  const existing = await findReport(store, domain.id, report);
  if (existing) return { outcome: 'duplicate', id: existing };
  const id = newId();
  try {
    await store.db.transaction().execute(async (tx) => {
      await tx.insertInto('dmarc_reports').values({
        id, domain_id: domain.id, org_name: report.orgName, org_email: report.orgEmail, report_id: report.reportId,
        begin_at: report.begin, end_at: report.end, policy_domain: about, policy_p: report.policy.p, policy_sp: report.policy.sp,
        policy_pct: report.policy.pct, policy_adkim: report.policy.adkim, policy_aspf: report.policy.aspf,
        messages: report.rows.reduce((sum, row) => sum + row.count, 0), received_at: now,
      }).execute();
      for (let i = 0; i < report.rows.length; i += 500) {
        await tx.insertInto('dmarc_report_rows').values(report.rows.slice(i, i + 500).map((row, j) => ({
          report_id: id, position: i + j, source_ip: row.sourceIp, count: row.count, disposition: row.disposition,
          dkim_aligned: row.dkim, spf_aligned: row.spf, header_from: row.headerFrom, envelope_from: row.envelopeFrom,
          auth_results: JSON.stringify({ dkim: row.dkimResults, spf: row.spfResults }),
        }))).execute();
      }
    });
  } catch (error) {
    // The same report arriving at two nodes at once: the other one stored it.
    if (!isUniqueViolation(error)) throw error;
    const stored = await findReport(store, domain.id, report);
    if (!stored) throw error;
    return { outcome: 'duplicate', id: stored };
  }
  return { outcome: 'stored', id };
}

async function findReport(store: Store, domainId: string, report: DmarcReport): Promise<string | null> {
  const row = await store.db.selectFrom('dmarc_reports').select('id')
    .where('domain_id', '=', domainId).where('org_name', '=', report.orgName).where('report_id', '=', report.reportId).executeTakeFirst();
  return row?.id ?? null;
}

export interface DmarcSource {
  sourceIp: string;
  messages: number;
  /** Passed DMARC: DKIM or SPF aligned with the From domain. */
  passed: number;
  failed: number;
  spfAligned: number;
  dkimAligned: number;
  quarantined: number;
  rejected: number;
  headerFrom: string[];
  reporters: string[];
  lastSeen: number;
  /** Some of its mail, sent as the domain, passed neither DKIM nor SPF alignment. */
  flagged: boolean;
}

export interface DmarcOverview {
  since: number;
  reports: number;
  messages: number;
  passed: number;
  failed: number;
  sources: DmarcSource[];
}

/**
 * Per source IP, what the reports that ended since `since` say (or, for `by: 'received_at'`,
 * that arrived since), flagged sources first, then most mail first.
 */
export async function dmarcOverview(store: Store, domainId: string, since: number, by: 'end_at' | 'received_at' = 'end_at'): Promise<DmarcOverview> {
  const groups = await store.db.selectFrom('dmarc_report_rows as r')
    .innerJoin('dmarc_reports as p', 'p.id', 'r.report_id')
    .where('p.domain_id', '=', domainId).where(`p.${by}`, '>=', since)
    .select(['r.source_ip', 'r.dkim_aligned', 'r.spf_aligned', 'r.disposition', 'r.header_from', 'p.org_name'])
    .select((eb) => [eb.fn.sum<number>('r.count').as('messages'), eb.fn.max<number>('p.end_at').as('last_seen')])
    .groupBy(['r.source_ip', 'r.dkim_aligned', 'r.spf_aligned', 'r.disposition', 'r.header_from', 'p.org_name'])
    .execute();
  const reports = await store.db.selectFrom('dmarc_reports').select((eb) => eb.fn.countAll<number>().as('n'))
    .where('domain_id', '=', domainId).where(by, '>=', since).executeTakeFirstOrThrow();
  const bySource = new Map<string, DmarcSource>();
  for (const g of groups) {
    const source = bySource.get(g.source_ip) ?? {
      sourceIp: g.source_ip, messages: 0, passed: 0, failed: 0, spfAligned: 0, dkimAligned: 0, quarantined: 0, rejected: 0,
      headerFrom: [], reporters: [], lastSeen: 0, flagged: false,
    };
    const count = Number(g.messages);
    source.messages += count;
    if (g.dkim_aligned === 'pass' || g.spf_aligned === 'pass') source.passed += count;
    else source.failed += count;
    if (g.spf_aligned === 'pass') source.spfAligned += count;
    if (g.dkim_aligned === 'pass') source.dkimAligned += count;
    if (g.disposition === 'quarantine') source.quarantined += count;
    if (g.disposition === 'reject') source.rejected += count;
    if (!source.headerFrom.includes(g.header_from)) source.headerFrom.push(g.header_from);
    if (!source.reporters.includes(g.org_name)) source.reporters.push(g.org_name);
    source.lastSeen = Math.max(source.lastSeen, Number(g.last_seen));
    source.flagged = source.failed > 0;
    bySource.set(g.source_ip, source);
  }
  const sources = [...bySource.values()].sort((a, b) => Number(b.flagged) - Number(a.flagged) || b.messages - a.messages || a.sourceIp.localeCompare(b.sourceIp));
  for (const source of sources) {
    source.headerFrom.sort();
    source.reporters.sort();
  }
  return {
    since,
    reports: Number(reports.n),
    messages: sources.reduce((sum, s) => sum + s.messages, 0),
    passed: sources.reduce((sum, s) => sum + s.passed, 0),
    failed: sources.reduce((sum, s) => sum + s.failed, 0),
    sources,
  };
}

/** A stored report as listed: what it said about itself, without its rows. */
export interface DmarcReportSummary extends Omit<DmarcReport, 'rows'> {
  id: string;
  messages: number;
  receivedAt: number;
}

/** The domain's reports, newest first; `before` is the id of the last one of the previous page. */
export async function listDmarcReports(store: Store, domainId: string, limit: number, before?: string): Promise<DmarcReportSummary[]> {
  let query = store.db.selectFrom('dmarc_reports').selectAll().where('domain_id', '=', domainId);
  if (before !== undefined) query = query.where('id', '<', before);
  const rows = await query.orderBy('id', 'desc').limit(limit).execute();
  return rows.map((row) => ({
    id: row.id, orgName: row.org_name, orgEmail: row.org_email, reportId: row.report_id, begin: Number(row.begin_at), end: Number(row.end_at),
    policy: { domain: row.policy_domain, p: row.policy_p, sp: row.policy_sp, pct: row.policy_pct === null ? null : Number(row.policy_pct), adkim: row.policy_adkim, aspf: row.policy_aspf },
    messages: Number(row.messages), receivedAt: Number(row.received_at),
  }));
}
