/**
 * Reports: what happened to the account's mail by tag, recipient domain or
 * template, per hour, day or the whole range — as JSON, or CSV for a
 * spreadsheet (`format=csv`). Counted from the event stream, like /stats:
 * `sent` is mail accepted; the rest are the events of those names.
 */
import { Type } from 'typebox';
import type { ApiApp, HttpDeps } from '../deps.ts';
import { principalOf } from '../auth.ts';
import { ApiError } from '../errors.ts';
import { ERRORS, Timestamp, iso } from '../schemas.ts';
import { reportCounts, type ReportDimension } from '../../store/report-counts.ts';

/** Report columns, and the event each counts. */
const COLUMNS = {
  sent: 'accepted', delivered: 'delivered', deferred: 'deferred', bounced: 'bounced', complained: 'complained',
  opened: 'opened', clicked: 'clicked', unsubscribed: 'unsubscribed',
} as const;
type Column = keyof typeof COLUMNS;
const COLUMN_NAMES = Object.keys(COLUMNS) as Column[];

const PERIOD_MS = { hour: 60 * 60_000, day: 24 * 60 * 60_000 } as const;
const MAX_SPAN_MS = 400 * PERIOD_MS.day;
const NONE = '(none)';

const ReportRow = Type.Object({
  period: Type.Union([Timestamp, Type.Null()], { description: 'start of the hour or day; null with period=all' }),
  key: Type.String({ description: `the tag, recipient domain or template; "${NONE}" for mail without one` }),
  ...Object.fromEntries(COLUMN_NAMES.map((c) => [c, Type.Integer()])) as Record<Column, ReturnType<typeof Type.Integer>>,
});

export function reportRoutes(app: ApiApp, deps: HttpDeps): void {
  app.get('/reports', {
    schema: {
      tags: ['stats'], summary: 'Counts by tag, recipient domain or template, per hour, day or the whole range; JSON or CSV',
      querystring: Type.Object({
        by: Type.Enum(['tag', 'domain', 'template']),
        period: Type.Optional(Type.Enum(['hour', 'day', 'all'], { default: 'day' })),
        from: Type.Optional(Type.String({ maxLength: 40, description: 'ISO 8601; default 30 days before to' })),
        to: Type.Optional(Type.String({ maxLength: 40, description: 'ISO 8601; default now' })),
        format: Type.Optional(Type.Enum(['json', 'csv'], { default: 'json' })),
      }),
      response: { 200: Type.Object({ by: Type.String(), period: Type.String(), from: Timestamp, to: Timestamp, rows: Type.Array(ReportRow) }), ...ERRORS },
    },
  }, async (request, reply) => {
    const { by, period = 'day', format = 'json' } = request.query;
    const to = parseTime(request.query.to, 'to') ?? Date.now();
    const from = parseTime(request.query.from, 'from') ?? to - 30 * PERIOD_MS.day;
    if (from >= to) throw new ApiError(400, 'invalid_range', 'from must be before to', 'from');
    if (to - from > MAX_SPAN_MS) throw new ApiError(400, 'invalid_range', 'a report covers at most 400 days; narrow from..to', 'from');

    const counts = await reportCounts(deps.store, {
      accountId: principalOf(request).accountId, from, to, by: by as ReportDimension,
      bucketMs: period === 'all' ? null : PERIOD_MS[period], types: Object.values(COLUMNS),
    });
    const rows = new Map<string, { period: string | null; key: string } & Record<Column, number>>();
    for (const count of counts) {
      const column = COLUMN_NAMES.find((c) => COLUMNS[c] === count.type);
      if (!column) continue;
      const periodStart = period === 'all' ? null : iso(count.bucket);
      const key = count.key ?? NONE;
      const id = `${periodStart}\n${key}`;
      let row = rows.get(id);
      if (!row) {
        row = { period: periodStart, key, ...(Object.fromEntries(COLUMN_NAMES.map((c) => [c, 0])) as Record<Column, number>) };
        rows.set(id, row);
      }
      row[column] += count.count;
    }
    const sorted = [...rows.values()].sort((a, b) => (a.period ?? '').localeCompare(b.period ?? '') || a.key.localeCompare(b.key));
    if (format === 'csv') {
      const lines = [['period', by, ...COLUMN_NAMES].join(','), ...sorted.map((r) => [r.period ?? '', csvField(r.key), ...COLUMN_NAMES.map((c) => String(r[c]))].join(','))];
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="mailroom-report-by-${by}.csv"`).send((lines.join('\r\n') + '\r\n') as never);
    }
    return { by, period, from: iso(from), to: iso(to), rows: sorted };
  });
}

/** RFC 4180 quoting; a leading =, +, - or @ is prefixed with ' so a spreadsheet does not run it as a formula. */
function csvField(value: string): string {
  const safe = /^[=+\-@]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

function parseTime(raw: string | undefined, field: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const at = Date.parse(raw);
  if (!Number.isFinite(at)) throw new ApiError(400, 'invalid_time', `${field} must be an ISO 8601 time such as 2026-05-01T00:00:00Z`, field);
  return at;
}
