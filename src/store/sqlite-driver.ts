/**
 * Kysely's SQLite dialect over Node's built-in `node:sqlite`, so no native
 * addon has to compile on install.
 */
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** Prepared statements kept per connection: the hot path's few dozen texts, and room for their IN-list lengths. */
const STATEMENT_CACHE_SIZE = 500;

export function openSqliteDatabase(path: string): { database: SqliteDatabase; raw: DatabaseSync } {
  const raw = new DatabaseSync(path, { timeout: 10_000 });
  // 16 KB pages rather than 4 KB: a 50 KB body is 4 overflow pages instead of 13, so a
  // commit writes a third as many WAL frames and a checkpoint copies a third as many pages
  // (about half the writer's CPU per large message; small messages cost the same). Like
  // auto_vacuum, it takes effect only on a new database; an older one keeps its page size.
  raw.exec('PRAGMA page_size = 16384');
  // Retention frees pages; incremental vacuum gives them back to the file
  // system a few at a time (retention/job.ts). The mode can only be chosen
  // before the first table exists, so this takes effect on new databases and
  // is a no-op on older ones (README: "Retention and backups").
  raw.exec('PRAGMA auto_vacuum = INCREMENTAL');
  // WAL lets the CLI read while the service writes; synchronous=FULL makes
  // every commit fsync the WAL, which is what lets us answer 250 after it.
  raw.exec('PRAGMA journal_mode = WAL');
  raw.exec('PRAGMA synchronous = FULL');
  // A burst of writes (a retention pass) can grow the WAL far past its usual few MB; without a
  // limit the file keeps that size for ever after. With one, each checkpoint cuts it back.
  raw.exec('PRAGMA journal_size_limit = 67108864');
  raw.exec('PRAGMA foreign_keys = ON');
  // Kysely prepares every query it runs; preparing each distinct SQL text once
  // keeps the hot path (enqueue, lease) free of SQLite's parser. The texts are not a
  // fixed set (an IN list or a batch insert has one per length, `incremental_vacuum(N)`
  // one per N), and each prepared statement holds about 25 KB of native memory: the
  // least recently used ones are let go beyond a bound, or the cache grows for ever.
  const statements = new Map<string, SqliteStatement>();
  const prepare = (sql: string): SqliteStatement => {
    let statement = statements.get(sql);
    if (statement) {
      statements.delete(sql);
    } else {
      statement = adaptStatement(raw.prepare(sql), /^\s*pragma\b/i.test(sql));
      if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
    }
    statements.set(sql, statement);
    return statement;
  };

  const database: SqliteDatabase = {
    close: () => raw.close(),
    prepare(sql: string): SqliteStatement {
      // Kysely opens transactions with a plain BEGIN; writers must take the
      // write lock up front or two processes (service + CLI) can deadlock
      // upgrading their read locks.
      return prepare(sql === 'begin' ? 'BEGIN IMMEDIATE' : sql);
    },
  };
  return { database, raw };
}

/**
 * A PRAGMA such as incremental_vacuum does its work one step per row it
 * yields, yet declares no columns: read, not run, or it stops after a step.
 */
function adaptStatement(statement: StatementSync, pragma: boolean): SqliteStatement {
  return {
    reader: pragma || statement.columns().length > 0,
    all: (parameters) => statement.all(...(parameters as never[])),
    run: (parameters) => statement.run(...(parameters as never[])),
    iterate: (parameters) => statement.iterate(...(parameters as never[])) as IterableIterator<unknown>,
  };
}
