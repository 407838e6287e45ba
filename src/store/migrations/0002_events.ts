/** The message log's event stream: one row per thing that happened to a recipient; webhooks fan out from it. */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { Engine } from '../database.ts';
import { serialType } from './types.ts';

export function events(engine: Engine): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createTable('message_events')
        .addColumn('id', serialType(engine), (c) => (engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
        .addColumn('account_id', 'text')
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('delivery_id', 'text')
        .addColumn('recipient', 'text')
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('reply', 'text')
        .addColumn('bounce_class', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('message_events_account').on('message_events').columns(['account_id', 'id']).execute();
      await db.schema.createIndex('message_events_message').on('message_events').column('message_id').execute();
    },
  };
}
