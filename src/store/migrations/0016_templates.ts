/**
 * Stored templates: one row per template (its name, unique in the account,
 * and its current version) and one immutable row per version, so a message
 * can say exactly which text it was rendered from even after later edits.
 * message_templates links a message to that version; it is written in the
 * same transaction as the message.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export function templates(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createTable('templates')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('current_version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('templates_account_name').on('templates').columns(['account_id', 'name']).unique().execute();

      await db.schema.createTable('template_versions')
        .addColumn('template_id', 'text', (c) => c.notNull().references('templates.id').onDelete('cascade'))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('text', 'text')
        .addColumn('html', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('template_versions_pk', ['template_id', 'version'])
        .execute();

      // No foreign key to templates: the message log keeps naming the template after it is deleted.
      await db.schema.createTable('message_templates')
        .addColumn('message_id', 'text', (c) => c.primaryKey().references('messages.id').onDelete('cascade'))
        .addColumn('template_id', 'text', (c) => c.notNull())
        .addColumn('template_name', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('message_templates_template').on('message_templates').columns(['template_id', 'version']).execute();
    },
  };
}
