/**
 * What the HTTP API adds: dashboard sessions, webhook endpoints, the webhook
 * outbox with its attempt log, and the indexes the API's lists and stats read.
 */
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { Engine } from '../database.ts';
import { serialType } from './types.ts';

export function api(engine: Engine): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createTable('web_sessions')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('web_sessions_expires').on('web_sessions').column('expires_at').execute();

      await db.schema.createTable('webhooks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('events', 'text', (c) => c.notNull())
        // Kept readable, not hashed: every delivery is signed with it.
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('webhooks_account').on('webhooks').columns(['account_id', 'id']).execute();

      await db.schema.createTable('webhook_deliveries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('webhook_id', 'text', (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('event_id', 'bigint')
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempt_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('lease_owner', 'text')
        .addColumn('last_status_code', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('delivered_at', 'bigint')
        .execute();
      // One outbox row per (endpoint, event), so a fan-out that runs twice cannot send twice.
      await db.schema.createIndex('webhook_deliveries_event').on('webhook_deliveries').columns(['webhook_id', 'event_id']).unique()
        .where(sql.ref('event_id'), 'is not', null).execute();
      await db.schema.createIndex('webhook_deliveries_webhook').on('webhook_deliveries').columns(['webhook_id', 'id']).execute();
      // The claim query's index: only rows still waiting to be sent.
      await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').column('next_attempt_at')
        .where(sql.ref('status'), '=', sql.lit('pending')).execute();

      await db.schema.createTable('webhook_attempts')
        .addColumn('id', serialType(engine), (c) => (engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
        .addColumn('delivery_id', 'text', (c) => c.notNull().references('webhook_deliveries.id').onDelete('cascade'))
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('status_code', 'integer')
        .addColumn('error', 'text')
        .addColumn('duration_ms', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('webhook_attempts_delivery').on('webhook_attempts').columns(['delivery_id', 'id']).execute();

      await db.schema.createIndex('messages_account_id').on('messages').columns(['account_id', 'id']).execute();
      await db.schema.createIndex('message_events_account_created').on('message_events').columns(['account_id', 'created_at']).execute();

      if (engine === 'postgres') {
        // On PostgreSQL, event ids are handed out before commit, so a reader can
        // see id 11 committed while id 10 is still in flight. The writing
        // transaction's id lets the webhook feed read only events of finished
        // transactions, in an order no later commit can slip into (see store/event-feed.ts).
        await sql`alter table message_events add column txid xid8 not null default pg_current_xact_id()`.execute(db);
        await sql`create index message_events_feed on message_events (txid, id)`.execute(db);
      }
      // The webhook feed starts at the beginning: no endpoint exists yet, so
      // the first fan-out just walks past older events.
      await db.insertInto('settings').values({ key: 'webhooks.feed_cursor', value: '' }).execute();
    },
  };
}
