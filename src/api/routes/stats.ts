/** Counts of what happened to the account's mail, per hour or day, from the event stream. */
import { sql } from 'kysely';
import { Type } from 'typebox';
import { EVENT_TYPES, type EventType } from '../../queue/message-events.ts';
import type { ApiApp, HttpDeps } from '../deps.ts';
import { principalOf } from '../auth.ts';
import { ApiError } from '../errors.ts';
import { ERRORS, Timestamp, iso } from '../schemas.ts';

const BUCKET_MS = { hour: 60 * 60_000, day: 24 * 60 * 60_000 } as const;
const DEFAULT_SPAN = { hour: 24, day: 30 } as const;
const MAX_BUCKETS = 1000;

const Counts = Type.Object(Object.fromEntries(EVENT_TYPES.map((type) => [type, Type.Integer()])) as Record<EventType, ReturnType<typeof Type.Integer>>);

const StatsResponse = Type.Object({
  interval: Type.Enum(['hour', 'day']),
  from: Timestamp,
  to: Timestamp,
  buckets: Type.Array(Type.Intersect([Type.Object({ start: Timestamp }), Counts])),
  totals: Counts,
});

export function statsRoutes(app: ApiApp, deps: HttpDeps): void {
  const { store } = deps;

  app.get('/stats', {
    schema: {
      tags: ['stats'], summary: 'Events per hour or day (UTC buckets): accepted, delivered, deferred, bounced, …',
      querystring: Type.Object({
        from: Type.Optional(Type.String({ maxLength: 40, description: 'ISO 8601 time; default 24 hours (hour) or 30 days (day) before `to`' })),
        to: Type.Optional(Type.String({ maxLength: 40, description: 'ISO 8601 time; default now' })),
        interval: Type.Optional(Type.Enum(['hour', 'day'], { default: 'day' })),
      }),
      response: { 200: StatsResponse, ...ERRORS },
    },
  }, async (request) => {
    const interval = request.query.interval ?? 'day';
    const size = BUCKET_MS[interval];
    const to = parseTime(request.query.to, 'to') ?? Date.now();
    const from = Math.floor((parseTime(request.query.from, 'from') ?? to - DEFAULT_SPAN[interval] * size) / size) * size;
    if (from >= to) throw new ApiError(400, 'invalid_range', 'from must be before to', 'from');
    if ((to - from) / size > MAX_BUCKETS) throw new ApiError(400, 'invalid_range', `at most ${MAX_BUCKETS} ${interval}s at once; narrow from..to or use a longer interval`, 'from');

    // A literal divisor keeps it integer division on both engines (a bound number is a REAL in SQLite).
    const bucket = sql<number>`created_at / ${sql.lit(size)}`;
    const rows = await store.db.selectFrom('message_events')
      .select([bucket.as('bucket'), 'type', (eb) => eb.fn.countAll<number>().as('count')])
      .where('account_id', '=', principalOf(request).accountId).where('created_at', '>=', from).where('created_at', '<', to)
      .groupBy([bucket, 'type']).execute();

    const zero = () => Object.fromEntries(EVENT_TYPES.map((type) => [type, 0])) as Record<EventType, number>;
    const buckets = new Map<number, Record<EventType, number>>();
    for (let start = from; start < to; start += size) buckets.set(start, zero());
    const totals = zero();
    for (const row of rows) {
      if (!(EVENT_TYPES as readonly string[]).includes(row.type)) continue;
      const counts = buckets.get(Number(row.bucket) * size);
      const type = row.type as EventType;
      if (counts) counts[type] += Number(row.count);
      totals[type] += Number(row.count);
    }
    return {
      interval, from: iso(from), to: iso(to), totals,
      buckets: [...buckets].map(([start, counts]) => ({ start: iso(start), ...counts })),
    };
  });
}

function parseTime(raw: string | undefined, field: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const at = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(at)) throw new ApiError(400, 'invalid_time', `${field} must be an ISO 8601 time such as 2026-05-01T00:00:00Z`, field);
  return at;
}
