/**
 * Event counts grouped by period and by tag, recipient domain or template,
 * for the reports (api/routes/reports.ts). The grouping key is where the SQL
 * dialects differ — a tag is an element of a JSON array, a domain the part
 * of an address after the @ — so the query lives here, with the store.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Store } from './database.ts';

export type ReportDimension = 'tag' | 'domain' | 'template';

export interface ReportCountRow {
  /** The period's start (ms); 0 when the report is not split by period. */
  bucket: number;
  /** The tag, domain or template; null for mail without one. */
  key: string | null;
  type: string;
  count: number;
}

export async function reportCounts(store: Store, query: { accountId: string; from: number; to: number; bucketMs: number | null; by: ReportDimension; types: readonly string[] }): Promise<ReportCountRow[]> {
  const { accountId, from, to, bucketMs, by, types } = query;
  const postgres = store.engine === 'postgres';
  // A literal divisor keeps it integer division on both engines (a bound number is a REAL in SQLite).
  const bucket = bucketMs === null ? sql`0` : sql`(e.created_at / ${sql.lit(bucketMs)}) * ${sql.lit(bucketMs)}`;
  let key: RawBuilder<unknown>;
  let join: RawBuilder<unknown>;
  if (by === 'template') {
    key = sql`mt.template_name`;
    join = sql`left join message_templates mt on mt.message_id = e.message_id`;
  } else if (by === 'domain') {
    key = postgres ? sql`lower(split_part(e.recipient, '@', 2))` : sql`lower(substr(e.recipient, instr(e.recipient, '@') + 1))`;
    join = sql``;
  } else {
    key = sql`t.value`;
    join = postgres
      ? sql`join messages m on m.id = e.message_id left join lateral jsonb_array_elements_text(m.tags::jsonb) as t(value) on true`
      : sql`join messages m on m.id = e.message_id left join json_each(m.tags) t`;
  }
  const result = await sql<{ bucket: number; key: string | null; type: string; count: number }>`
    select ${bucket} as bucket, ${key} as key, e.type as type, count(*) as count
    from message_events e ${join}
    where e.account_id = ${accountId} and e.created_at >= ${from} and e.created_at < ${to}
      and e.type in (${sql.join(types.map((t) => sql`${t}`))})
    group by 1, 2, 3`.execute(store.db);
  return result.rows.map((row) => ({ bucket: Number(row.bucket), key: row.key === null || row.key === '' ? null : String(row.key), type: row.type, count: Number(row.count) }));
}
