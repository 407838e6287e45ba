/**
 * A sending domain's DMARC aggregate reports (domains/dmarc-reports.ts): per source IP what
 * passed and failed SPF and DKIM alignment over a period, with the sources that send as the
 * domain without passing flagged; and the reports themselves.
 */
import { Type } from 'typebox';
import type { ApiApp, HttpDeps } from '../deps.ts';
import { principalOf } from '../auth.ts';
import { withFieldNames } from '../errors.ts';
import { decodeCursor, page } from '../pagination.ts';
import { ERRORS, Page, PageQuery, Timestamp, iso } from '../schemas.ts';
import { getDomainRow } from '../../domains/domains.ts';
import { dmarcReportAddress } from '../../domains/records.ts';
import { dmarcOverview, listDmarcReports } from '../../domains/dmarc-reports.ts';

const DAY = 24 * 3600_000;
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

const Source = Type.Object({
  sourceIp: Type.String(),
  messages: Type.Integer({ description: 'messages from this IP with the domain in From, as the receivers counted them' }),
  passed: Type.Integer({ description: 'passed DMARC: DKIM or SPF passed aligned with the From domain' }),
  failed: Type.Integer({ description: 'passed neither DKIM nor SPF alignment' }),
  spfAligned: Type.Integer({ description: 'messages whose SPF passed aligned' }),
  dkimAligned: Type.Integer({ description: 'messages whose DKIM passed aligned' }),
  quarantined: Type.Integer(), rejected: Type.Integer(),
  headerFrom: Type.Array(Type.String()), reporters: Type.Array(Type.String()), lastSeen: Timestamp,
  flagged: Type.Boolean({ description: 'some of its mail sent as the domain passed neither: someone else using the domain, or a service of yours not set up to sign for it' }),
});

const Overview = Type.Object({
  domain: Type.String(),
  reportAddress: Type.String({ description: 'the rua address the DMARC record names; reports mailed there show here' }),
  since: Timestamp, reports: Type.Integer(), messages: Type.Integer(), passed: Type.Integer(), failed: Type.Integer(),
  sources: Type.Array(Source),
});

const Report = Type.Object({
  id: Type.String(), orgName: Type.String(), orgEmail: Nullable(Type.String()), reportId: Type.String(), begin: Timestamp, end: Timestamp,
  policy: Type.Object({ domain: Type.String(), p: Type.String(), sp: Nullable(Type.String()), pct: Nullable(Type.Integer()), adkim: Nullable(Type.String()), aspf: Nullable(Type.String()) }),
  messages: Type.Integer(), receivedAt: Timestamp,
});

const DomainName = Type.Object({ name: Type.String({ maxLength: 253 }) });
const FIELDS = { domain: 'name' };

export function dmarcRoutes(app: ApiApp, deps: HttpDeps): void {
  const { store } = deps;

  app.get('/domains/:name/dmarc', {
    schema: {
      tags: ['domains'], summary: "What the domain's DMARC aggregate reports say, per source IP, over the last `days` days",
      params: DomainName, querystring: Type.Object({ days: Type.Optional(Type.Integer({ minimum: 1, maximum: 366, description: 'the period: reports that ended in the last this many days (default 30)' })) }),
      response: { 200: Overview, ...ERRORS },
    },
  }, async (request) => {
    const row = await withFieldNames(FIELDS, () => getDomainRow(store, request.params.name, principalOf(request).accountId));
    const overview = await dmarcOverview(store, row.id, Date.now() - (request.query.days ?? 30) * DAY);
    return {
      domain: row.name, reportAddress: dmarcReportAddress(row.return_path_domain),
      since: iso(overview.since), reports: overview.reports, messages: overview.messages, passed: overview.passed, failed: overview.failed,
      sources: overview.sources.map((s) => ({ ...s, lastSeen: iso(s.lastSeen) })),
    };
  });

  app.get('/domains/:name/dmarc/reports', {
    schema: {
      tags: ['domains'], summary: "The domain's DMARC aggregate reports, newest first",
      params: DomainName, querystring: Type.Object(PageQuery), response: { 200: Page(Report), ...ERRORS },
    },
  }, async (request) => {
    const row = await withFieldNames(FIELDS, () => getDomainRow(store, request.params.name, principalOf(request).accountId));
    const limit = request.query.limit ?? 50;
    const reports = await listDmarcReports(store, row.id, limit + 1, decodeCursor(request.query.cursor));
    return page(reports, limit, (r) => r.id, (r) => ({ ...r, begin: iso(r.begin), end: iso(r.end), receivedAt: iso(r.receivedAt) }));
  });
}
