/** `mailroom backup FILE` and `mailroom restore FILE`: SQLite stores (src/retention/backup.ts). */
import type { Command } from 'commander';
import { backupSqlite, restoreSqlite, sqlitePathOf } from '../retention/backup.ts';
import { configFrom, reportError, withConfigFlags } from './context.ts';

export function registerBackupCommands(program: Command): void {
  withConfigFlags(program.command('backup <file>').description('write a consistent copy of the SQLite store to FILE (works while Mailroom runs)'), { example: 'mailroom backup /var/backups/mailroom-$(date +%F).db' })
    .option('--json', 'print JSON')
    .action(async (file: string, options) => {
      try {
        const summary = await backupSqlite(sqlitePathOf(configFrom(options).databaseUrl, 'backup'), file);
        print(options.json, summary, `Backed up to ${summary.file} (${summary.bytes} bytes): ${summary.messages} messages, ${summary.waiting} deliveries waiting.`);
      } catch (error) {
        reportError(error, options.json === true);
      }
    });

  withConfigFlags(program.command('restore <file>').description('replace the SQLite store with a backup made by `mailroom backup` (stop Mailroom first)'), { example: 'mailroom restore /var/backups/mailroom-2026-12-01.db' })
    .option('--force', 'replace an existing store')
    .option('--json', 'print JSON')
    .action(async (file: string, options) => {
      try {
        const summary = await restoreSqlite(file, sqlitePathOf(configFrom(options).databaseUrl, 'restore'), { force: options.force === true });
        print(options.json, summary, `Restored ${summary.database}: ${summary.messages} messages, ${summary.waiting} deliveries to deliver at the next start.`);
      } catch (error) {
        reportError(error, options.json === true);
      }
    });
}

function print(json: unknown, summary: object, words: string): void {
  process.stdout.write((json === true ? JSON.stringify(summary, null, 2) : words) + '\n');
}
