/**
 * How many emails an account sent in the last 24 hours, kept as per-minute
 * counters so the rolling window costs at most 1,440 small rows to sum,
 * however much the account sends.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { LIMIT_WINDOW_MS, type UsageFact } from '../policy/limits.ts';

const MINUTE_MS = 60_000;

export function minuteOf(at: number): number {
  return Math.floor(at / MINUTE_MS);
}

export async function readUsage(db: Kysely<Database>, accountId: string, now: number): Promise<UsageFact> {
  const row = await db.selectFrom('usage')
    .select([sql<number>`coalesce(sum(count), 0)`.as('used'), sql<number | null>`min(minute)`.as('oldest')])
    .where('account_id', '=', accountId)
    .where('minute', '>', minuteOf(now - LIMIT_WINDOW_MS))
    .executeTakeFirstOrThrow();
  const oldest = row.oldest === null ? null : Number(row.oldest);
  return { used: Number(row.used), nextRelease: oldest === null ? null : (oldest + 1) * MINUTE_MS + LIMIT_WINDOW_MS };
}

export async function addUsage(db: Kysely<Database>, accountId: string, now: number, count: number): Promise<void> {
  await db.insertInto('usage').values({ account_id: accountId, minute: minuteOf(now), count })
    .onConflict((oc) => oc.columns(['account_id', 'minute']).doUpdateSet({ count: sql`usage.count + excluded.count` }))
    .execute();
}

export async function pruneUsage(db: Kysely<Database>, now: number): Promise<void> {
  await db.deleteFrom('usage').where('minute', '<=', minuteOf(now - LIMIT_WINDOW_MS)).execute();
}
