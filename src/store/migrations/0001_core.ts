/** Accounts, keys, domains, the queue (messages, deliveries, attempts), suppressions, usage. */
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { Engine } from '../database.ts';
import { binaryType } from './types.ts';

export function core(engine: Engine): Migration {
  return {
      async up(db: Kysely<any>) {
        await db.schema.createTable('settings')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createTable('accounts')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('email', 'text', (c) => c.notNull().unique())
          .addColumn('password_hash', 'text', (c) => c.notNull())
          .addColumn('daily_limit', 'integer', (c) => c.notNull())
          .addColumn('is_admin', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createTable('secret_keys')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
          .addColumn('hint', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('last_used_at', 'bigint')
          .addColumn('revoked_at', 'bigint')
          .execute();
        await db.schema.createIndex('secret_keys_account').on('secret_keys').column('account_id').execute();
        await db.schema.createTable('domains')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
          .addColumn('name', 'text', (c) => c.notNull().unique())
          .addColumn('dkim_selector', 'text', (c) => c.notNull())
          .addColumn('dkim_private_key', 'text', (c) => c.notNull())
          .addColumn('dkim_public_key', 'text', (c) => c.notNull())
          .addColumn('return_path_domain', 'text', (c) => c.notNull())
          .addColumn('verified_at', 'bigint')
          .addColumn('verified_by', 'text')
          .addColumn('last_check', 'text')
          .addColumn('last_checked_at', 'bigint')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('domains_account').on('domains').column('account_id').execute();
        await db.schema.createIndex('domains_return_path').on('domains').column('return_path_domain').execute();
        await db.schema.createTable('messages')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('account_id', 'text')
          .addColumn('mail_from', 'text', (c) => c.notNull())
          .addColumn('header_from', 'text', (c) => c.notNull())
          .addColumn('subject', 'text', (c) => c.notNull())
          .addColumn('size', 'integer', (c) => c.notNull())
          .addColumn('raw', binaryType(engine), (c) => c.notNull())
          .addColumn('dkim_signature', 'text')
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('tags', 'text', (c) => c.notNull())
          .addColumn('client_ip', 'text')
          .addColumn('idempotency_key', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('messages_account_created').on('messages').columns(['account_id', 'created_at']).execute();
        await db.schema.createIndex('messages_idempotency').on('messages').columns(['account_id', 'idempotency_key']).unique()
          .where(sql.ref('idempotency_key'), 'is not', null).execute();
        await db.schema.createTable('deliveries')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('message_id', 'text', (c) => c.notNull().references('messages.id').onDelete('cascade'))
          .addColumn('account_id', 'text')
          .addColumn('recipient', 'text', (c) => c.notNull())
          .addColumn('recipient_domain', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('attempt_count', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
          .addColumn('lease_owner', 'text')
          .addColumn('last_reply', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('deliveries_message').on('deliveries').column('message_id').execute();
        await db.schema.createIndex('deliveries_recipient').on('deliveries').columns(['account_id', 'recipient']).execute();
        // The claim query's index: only deliveries still waiting for an attempt.
        await db.schema.createIndex('deliveries_due').on('deliveries').column('next_attempt_at')
          .where(sql.ref('status'), 'in', sql`('queued', 'deferred')`).execute();
        await db.schema.createTable('attempts')
          .addColumn('id', engine === 'sqlite' ? 'integer' : 'bigserial', (c) => (engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
          .addColumn('delivery_id', 'text', (c) => c.notNull().references('deliveries.id').onDelete('cascade'))
          .addColumn('message_id', 'text', (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('outcome', 'text', (c) => c.notNull())
          .addColumn('mx', 'text')
          .addColumn('ip', 'text')
          .addColumn('tls', 'text')
          .addColumn('reply', 'text', (c) => c.notNull())
          .addColumn('duration_ms', 'integer', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('attempts_delivery').on('attempts').column('delivery_id').execute();
        await db.schema.createTable('suppressions')
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('address', 'text', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('source_delivery_id', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('suppressions_pk', ['account_id', 'address'])
          .execute();
        await db.schema.createTable('usage')
          .addColumn('account_id', 'text', (c) => c.notNull())
          .addColumn('minute', 'bigint', (c) => c.notNull())
          .addColumn('count', 'integer', (c) => c.notNull())
          .addPrimaryKeyConstraint('usage_pk', ['account_id', 'minute'])
          .execute();
      },
  };
}
