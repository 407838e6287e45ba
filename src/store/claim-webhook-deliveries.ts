/**
 * Taking due webhook deliveries from the outbox with a lease, the same way
 * claim-deliveries.ts takes mail: the lease moves `next_attempt_at` to its
 * end, so rows of a dispatcher that died fall due again by themselves.
 * PostgreSQL: `FOR UPDATE SKIP LOCKED` gives each row to one node without
 * waiting; SQLite: the claim's BEGIN IMMEDIATE serialises claims.
 */
import { sql, type Kysely } from 'kysely';
import type { Engine } from './database.ts';
import type { Database } from './schema.ts';

export interface ClaimedWebhookDelivery {
  id: string;
  webhook_id: string;
  event_type: string;
  payload: string;
  attempt_count: number;
  created_at: number;
  url: string;
  secret: string;
}

/** In the caller's transaction (the queue writer's). */
export async function claimWebhookDeliveries(tx: Kysely<Database>, engine: Engine, owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedWebhookDelivery[]> {
  const lockClause = engine === 'postgres' ? sql`for update skip locked` : sql``;
  const claimed = await sql<Omit<ClaimedWebhookDelivery, 'url' | 'secret'>>`
    update webhook_deliveries set lease_owner = ${owner}, next_attempt_at = ${now + leaseMs}
    where id in (
      select id from webhook_deliveries
      where status = 'pending' and next_attempt_at <= ${now}
      order by next_attempt_at
      limit ${limit}
      ${lockClause}
    )
    returning id, webhook_id, event_type, payload, attempt_count, created_at`.execute(tx);
  if (claimed.rows.length === 0) return [];
  const webhookIds = [...new Set(claimed.rows.map((row) => row.webhook_id))];
  const endpoints = await tx.selectFrom('webhooks').select(['id', 'url', 'secret']).where('id', 'in', webhookIds).execute();
  const byId = new Map(endpoints.map((endpoint) => [endpoint.id, endpoint]));
  return claimed.rows.flatMap((row) => {
    const endpoint = byId.get(row.webhook_id);
    // A deleted endpoint takes its outbox rows with it (cascade); nothing to send.
    if (!endpoint) return [];
    return [{ ...row, attempt_count: Number(row.attempt_count), created_at: Number(row.created_at), url: endpoint.url, secret: endpoint.secret }];
  });
}
