/**
 * Reading the message_events stream in order, past a stored cursor, for the
 * webhook fan-out: every event exactly once, none skipped.
 *
 * SQLite commits one writer at a time, so ids become visible in order and
 * "id > cursor" is a complete feed. PostgreSQL hands out ids before commit:
 * id 11 can be visible while id 10's transaction is still running, and a
 * plain id cursor would step past 10 for good. There the feed reads only
 * events whose writing transaction has finished (txid below the snapshot's
 * xmin) and orders by (txid, id); any event committed later belongs to a
 * transaction at or above that xmin, so it sorts after the cursor.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, MessageEventsTable } from './schema.ts';
import type { Engine } from './database.ts';

const CURSOR_KEY = 'webhooks.feed_cursor';

/** A row of message_events as read back (its id generated). */
export type FeedEvent = Selectable<MessageEventsTable>;

/**
 * The feed's cursor, locked until the transaction ends so one fan-out runs at
 * a time across nodes (SQLite's BEGIN IMMEDIATE already holds the write lock).
 */
export async function lockFeedCursor(tx: Kysely<Database>, engine: Engine): Promise<string> {
  let query = tx.selectFrom('settings').select('value').where('key', '=', CURSOR_KEY);
  if (engine === 'postgres') query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row?.value ?? '';
}

export async function saveFeedCursor(tx: Kysely<Database>, cursor: string): Promise<void> {
  await tx.insertInto('settings').values({ key: CURSOR_KEY, value: cursor })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: cursor })).execute();
}

/** Up to `limit` events after the cursor, and the cursor after them (unchanged when there are none). */
export async function readFeed(tx: Kysely<Database>, engine: Engine, cursor: string, limit: number): Promise<{ events: FeedEvent[]; cursor: string }> {
  if (engine === 'sqlite') {
    const after = cursor === '' ? 0 : Number(cursor);
    const events = await tx.selectFrom('message_events').selectAll().where('id', '>', after).orderBy('id').limit(limit).execute();
    return { events: events.map(normalise), cursor: events.length > 0 ? String(events[events.length - 1].id) : cursor };
  }
  const [afterTxid, afterId] = cursor === '' ? ['0', 0] : [cursor.split(':')[0], Number(cursor.split(':')[1])];
  const result = await sql<FeedEvent & { txid: string }>`
    select id, account_id, message_id, delivery_id, recipient, type, reply, bounce_class, created_at, details, txid::text as txid
    from message_events
    where (txid, id) > (${afterTxid}::xid8, ${afterId})
      and txid < pg_snapshot_xmin(pg_current_snapshot())
    order by txid, id
    limit ${limit}`.execute(tx);
  const rows = result.rows;
  if (rows.length === 0) return { events: [], cursor };
  const last = rows[rows.length - 1];
  return { events: rows.map(normalise), cursor: `${last.txid}:${last.id}` };
}

function normalise(row: FeedEvent): FeedEvent {
  return {
    id: Number(row.id), account_id: row.account_id, message_id: row.message_id, delivery_id: row.delivery_id, recipient: row.recipient,
    type: row.type, reply: row.reply, bounce_class: row.bounce_class, created_at: Number(row.created_at), details: row.details ?? null,
  };
}
