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

/** readUsage for several accounts in one query (store/read-batch.ts), by account id. */
export async function readUsageOf(db: Kysely<Database>, accountIds: readonly string[], now: number): Promise<Map<string, UsageFact>> {
  if (accountIds.length === 0) return new Map();
  const rows = await db.selectFrom('usage')
    .select(['account_id', sql<number>`coalesce(sum(count), 0)`.as('used'), sql<number | null>`min(minute)`.as('oldest')])
    .where('account_id', 'in', [...accountIds])
    .where('minute', '>', minuteOf(now - LIMIT_WINDOW_MS))
    .groupBy('account_id')
    .execute();
  const facts = new Map<string, UsageFact>(accountIds.map((id) => [id, { used: 0, nextRelease: null }]));
  for (const row of rows) {
    const oldest = row.oldest === null ? null : Number(row.oldest);
    facts.set(row.account_id, { used: Number(row.used), nextRelease: oldest === null ? null : (oldest + 1) * MINUTE_MS + LIMIT_WINDOW_MS });
  }
  return facts;
}

export async function addUsage(db: Kysely<Database>, accountId: string, now: number, count: number): Promise<void> {
  await db.insertInto('usage').values({ account_id: accountId, minute: minuteOf(now), count })
    .onConflict((oc) => oc.columns(['account_id', 'minute']).doUpdateSet({ count: sql`usage.count + excluded.count` }))
    .execute();
}

export async function pruneUsage(db: Kysely<Database>, now: number): Promise<void> {
  await db.deleteFrom('usage').where('minute', '<=', minuteOf(now - LIMIT_WINDOW_MS)).execute();
  await db.deleteFrom('key_usage').where('minute', '<=', minuteOf(now - LIMIT_WINDOW_MS)).execute();
}

/** Emails sent with each of these keys in the rolling 24 hours. */
export async function keyUsageLast24h(db: Kysely<Database>, keyIds: readonly string[], now: number): Promise<Map<string, number>> {
  if (keyIds.length === 0) return new Map();
  const rows = await db.selectFrom('key_usage').select(['key_id', sql<number>`sum(count)`.as('used')])
    .where('key_id', 'in', keyIds).where('minute', '>', minuteOf(now - LIMIT_WINDOW_MS)).groupBy('key_id').execute();
  return new Map(rows.map((row) => [row.key_id, Number(row.used)]));
}

export async function readKeyUsage(db: Kysely<Database>, keyId: string, now: number): Promise<UsageFact> {
  const row = await db.selectFrom('key_usage')
    .select([sql<number>`coalesce(sum(count), 0)`.as('used'), sql<number | null>`min(minute)`.as('oldest')])
    .where('key_id', '=', keyId)
    .where('minute', '>', minuteOf(now - LIMIT_WINDOW_MS))
    .executeTakeFirstOrThrow();
  const oldest = row.oldest === null ? null : Number(row.oldest);
  return { used: Number(row.used), nextRelease: oldest === null ? null : (oldest + 1) * MINUTE_MS + LIMIT_WINDOW_MS };
}

export async function addKeyUsage(db: Kysely<Database>, keyId: string, now: number, count: number): Promise<void> {
  await db.insertInto('key_usage').values({ key_id: keyId, minute: minuteOf(now), count })
    .onConflict((oc) => oc.columns(['key_id', 'minute']).doUpdateSet({ count: sql`key_usage.count + excluded.count` }))
    .execute();
}
