/**
 * What a plain-words explanation of an outcome needs beside the raw reply: the classification
 * rule of each attempt (`attempts.rule`), and on each deferral, bounce or expiry event its rule,
 * next attempt and expiry (`message_events.details`, JSON), so webhooks can say them too.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export function outcomeDetails(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('attempts').addColumn('rule', 'text').execute();
      await db.schema.alterTable('message_events').addColumn('details', 'text').execute();
    },
  };
}
