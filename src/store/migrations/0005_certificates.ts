/**
 * The shared TLS certificate and its ACME state, and the Send-As doctor's log
 * of recent SMTP sessions. All of it lives in the store so every node serves
 * the same certificate, any HTTP node can answer an ACME challenge another
 * node asked for, and the doctor sees sessions whichever node took them.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { Engine } from '../database.ts';
import { serialType } from './types.ts';

export function certificates(engine: Engine): Migration {
  return {
    async up(db: Kysely<any>) {
      // One row per host name; the certificate columns stay empty until the first issuance.
      await db.schema.createTable('certificates')
        .addColumn('hostname', 'text', (c) => c.primaryKey())
        .addColumn('cert_pem', 'text')
        .addColumn('key_pem', 'text')
        .addColumn('issuer', 'text')
        .addColumn('not_before', 'bigint')
        .addColumn('not_after', 'bigint')
        .addColumn('obtained_at', 'bigint')
        .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_attempt_at', 'bigint')
        .addColumn('last_error', 'text')
        .addColumn('next_attempt_at', 'bigint')
        .addColumn('lease_owner', 'text')
        .addColumn('lease_expires_at', 'bigint')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createTable('acme_accounts')
        .addColumn('directory_url', 'text', (c) => c.primaryKey())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('account_key_pem', 'text', (c) => c.notNull())
        .addColumn('account_url', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createTable('acme_challenges')
        .addColumn('token', 'text', (c) => c.primaryKey())
        .addColumn('hostname', 'text', (c) => c.notNull())
        .addColumn('key_authorization', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createTable('smtp_sessions')
        .addColumn('id', serialType(engine), (c) => (engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
        .addColumn('account_id', 'text')
        .addColumn('username', 'text')
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('listener', 'text', (c) => c.notNull())
        .addColumn('client_ip', 'text', (c) => c.notNull())
        .addColumn('tls_version', 'text')
        .addColumn('tls_cipher', 'text')
        .addColumn('sni', 'text')
        .addColumn('auth_method', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .addColumn('messages', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('smtp_sessions_account').on('smtp_sessions').columns(['account_id', 'id']).execute();
    },
  };
}
