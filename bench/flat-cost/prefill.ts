/**
 * Fills a store the fast way, with set-based INSERT … SELECT over a generated
 * series (PostgreSQL generate_series, SQLite a recursive CTE), never through
 * SMTP: the queue of a busy relay (deferred deliveries not yet due) and a
 * month of finished history (messages with their deliveries, attempts and
 * events), all in one account, ids time-ordered like newId() makes them.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Store } from '../../src/store/database.ts';
import type { Database } from '../../src/store/schema.ts';
import { firstIdAt } from '../../src/store/ids.ts';

export interface PrefillPlan {
  accountId: string;
  /** Deferred deliveries not yet due (one message each). */
  deferred: number;
  /** Finished messages; each brings 10 history rows (message, delivery, 3 attempts, 5 events). */
  finished: number;
  now: number;
}

export interface PrefillReport {
  deferred: number;
  historyRows: number;
  seconds: number;
}

const CHUNK = 50_000;
const DAY = 86_400_000;
/** A small, realistic message: every prefilled body is these bytes. */
const BODY = Buffer.from(`From: app@bench-history.example\r\nTo: someone@recipient.example\r\nSubject: history\r\n\r\n${'history line\r\n'.repeat(30)}`);

export async function prefill(store: Store, plan: PrefillPlan): Promise<PrefillReport> {
  const started = Date.now();
  for (let from = 0; from < plan.deferred; from += CHUNK) {
    const count = Math.min(CHUNK, plan.deferred - from);
    // Accepted within the last day, deferred, next attempt within the next day.
    const createdAt = plan.now - DAY + Math.floor((from / Math.max(1, plan.deferred)) * (DAY - 3_600_000));
    await chunk(store, 'q', from, count, createdAt, plan, 'deferred');
  }
  for (let from = 0; from < plan.finished; from += CHUNK) {
    const count = Math.min(CHUNK, plan.finished - from);
    // A month and more ago: retention deletes all of it.
    const createdAt = plan.now - 40 * DAY + Math.floor((from / Math.max(1, plan.finished)) * 5 * DAY);
    await chunk(store, 'h', from, count, createdAt, plan, 'delivered');
  }
  await moveFeedCursorToEnd(store);
  // Fresh statistics, as autovacuum keeps them on PostgreSQL. (SQLite has none unless someone runs
  // ANALYZE, and Mailroom does not: its plans are measured as they are in production.)
  if (store.engine === 'postgres') await sql`analyze`.execute(store.db);
  return { deferred: plan.deferred, historyRows: plan.finished * 10, seconds: (Date.now() - started) / 1000 };
}

export type SeriesStatus = 'deferred' | 'delivered' | 'due';

/**
 * `count` messages of one recipient each, ids `<time><kind>m<n>` for n from `from`: `deferred`
 * (not due for an hour or more), `delivered` (with 3 attempts and 5 events), or `due` (queued, due now).
 */
export async function chunk(store: Store, kind: string, from: number, count: number, createdAt: number, plan: Pick<PrefillPlan, 'accountId' | 'now'>, status: SeriesStatus): Promise<void> {
  const prefix = firstIdAt(createdAt);
  const pad = store.engine === 'postgres' ? (expr: string) => `lpad((${expr})::text, 10, '0')` : (expr: string) => `substr('0000000000' || (${expr}), -10)`;
  const messageId = `'${prefix}${kind}m' || ${pad('i')}`;
  const deliveryId = `'${prefix}${kind}d' || ${pad('i')}`;
  const series = (select: string) => (store.engine === 'postgres'
    ? `${select.replace('FROM s', `FROM generate_series(${from}, ${from + count - 1}) AS s(i)`)}`
    : `WITH RECURSIVE s(i) AS (SELECT ${from} UNION ALL SELECT i + 1 FROM s WHERE i < ${from + count - 1}) ${select}`);
  const account = plan.accountId.replaceAll("'", "''");
  const at = status === 'delivered' ? createdAt + 60_000 : createdAt;
  const nextAttempt = status === 'deferred' ? `${plan.now + 3_600_000} + (i % 3600) * 20000` : status === 'due' ? String(plan.now - 1000) : String(at);
  const deliveryStatus = status === 'due' ? 'queued' : status;

  await store.db.transaction().execute(async (tx) => {
    const exec = (text: string) => rawWithBody(tx, text);
    await exec(series(`INSERT INTO messages (id, account_id, mail_from, header_from, subject, size, raw, dkim_signature, source, tags, client_ip, idempotency_key, created_at, body_expired_at)
      SELECT ${messageId}, '${account}', 'app@bench-history.example', 'app@bench-history.example', 'history', ${BODY.length}, BODY_PARAM, NULL, 'api', '[]', NULL, NULL, ${createdAt}, NULL FROM s`));
    await exec(series(`INSERT INTO deliveries (id, message_id, account_id, recipient, recipient_domain, status, attempt_count, next_attempt_at, lease_owner, last_reply, created_at, updated_at)
      SELECT ${deliveryId}, ${messageId}, '${account}', 'r' || i || '@recipient${kind}.example', 'recipient${kind}.example', '${deliveryStatus}', ${{ deferred: 1, delivered: 3, due: 0 }[status]},
        ${nextAttempt}, NULL, ${{ deferred: "'451 4.7.1 try later'", delivered: "'250 ok'", due: 'NULL' }[status]}, ${createdAt}, ${at} FROM s`));
    if (status === 'delivered') {
      for (const [n, outcome] of ['deferred', 'deferred', 'delivered'].entries()) {
        await exec(series(`INSERT INTO attempts (delivery_id, message_id, at, outcome, mx, ip, tls, reply, duration_ms)
          SELECT ${deliveryId}, ${messageId}, ${createdAt + n * 10_000}, '${outcome}', 'mx.recipient.example', '192.0.2.1', NULL, '${outcome === 'delivered' ? '250 ok' : '451 4.7.1 try later'}', 120 FROM s`));
      }
      for (const type of ['accepted', 'deferred', 'deferred', 'delivered', 'opened']) {
        await exec(series(`INSERT INTO message_events (account_id, message_id, delivery_id, recipient, type, reply, bounce_class, created_at)
          SELECT '${account}', ${messageId}, ${deliveryId}, 'r' || i || '@recipient${kind}.example', '${type}', NULL, NULL, ${at} FROM s`));
      }
    }
  });
}

/** The prefilled body is bound as a parameter wherever BODY_PARAM stands. */
function rawWithBody(tx: Kysely<Database>, text: string): Promise<unknown> {
  const [before, after] = text.split('BODY_PARAM');
  const query: RawBuilder<unknown> = after === undefined ? sql.raw(text) : sql`${sql.raw(before)}${BODY}${sql.raw(after)}`;
  return query.execute(tx);
}

/** As on a system that has been running: the webhook feed has long walked past this history. */
async function moveFeedCursorToEnd(store: Store): Promise<void> {
  let cursor = '';
  if (store.engine === 'postgres') {
    const { rows } = await sql<{ txid: string; id: number }>`select txid::text as txid, id from message_events order by txid desc, id desc limit 1`.execute(store.db);
    if (rows[0]) cursor = `${rows[0].txid}:${rows[0].id}`;
  } else {
    const { rows } = await sql<{ id: number | null }>`select max(id) as id from message_events`.execute(store.db);
    if (rows[0]?.id != null) cursor = String(rows[0].id);
  }
  await store.db.updateTable('settings').set({ value: cursor }).where('key', '=', 'webhooks.feed_cursor').execute();
}
