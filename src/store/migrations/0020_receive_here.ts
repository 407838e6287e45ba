/**
 * "Receive here": addresses on an account's verified domains whose mail the
 * mx listener takes (Gmail's "Send mail as" confirmation, for a domain with no
 * mailbox), and the messages caught for them, kept only until `expires_at`.
 * Caught messages name their account, not the address row: turning an
 * address off stops new mail at once, while what was caught stays readable
 * until retention deletes it.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { Engine } from '../database.ts';
import { binaryType } from './types.ts';

export function receiveHere(engine: Engine): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createTable('receive_addresses')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        // The verified domain the address is on (or under): removing the domain turns the address off.
        .addColumn('domain_id', 'text', (c) => c.notNull().references('domains.id').onDelete('cascade'))
        .addColumn('address', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('receive_addresses_account').on('receive_addresses').column('account_id').execute();

      await db.schema.createTable('caught_messages')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('recipient', 'text', (c) => c.notNull())
        .addColumn('mail_from', 'text', (c) => c.notNull())
        .addColumn('header_from', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('text_body', 'text', (c) => c.notNull())
        .addColumn('code', 'text')
        .addColumn('link', 'text')
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('raw', binaryType(engine), (c) => c.notNull())
        .addColumn('client_ip', 'text')
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('forwarded_to', 'text')
        .addColumn('forwarded_message_id', 'text')
        .addColumn('forwarded_at', 'bigint')
        .execute();
      await db.schema.createIndex('caught_messages_account').on('caught_messages').columns(['account_id', 'received_at']).execute();
      await db.schema.createIndex('caught_messages_expiry').on('caught_messages').column('expires_at').execute();
    },
  };
}
