/**
 * Backups taken while Mailroom accepts mail, restored into a new store that
 * then delivers everything that was waiting. SQLite: `mailroom backup` and
 * `mailroom restore`; PostgreSQL: pg_dump and pg_restore, as the README says.
 * Every message acknowledged before the backup began is in it, and the copy
 * is consistent: each message in it has its delivery rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import pino from 'pino';
import { describeEachStore, POSTGRES_URL } from '../support/stores.ts';
import { startTestMailroom } from '../support/mailroom.ts';
import { startDnsServer } from '../support/dns-server.ts';
import { startMxPeer } from '../support/mx-peer.ts';
import { routeDomainToPeer } from '../support/delivery-world.ts';
import { cliEnv, runCli } from '../support/cli.ts';
import { burstSender } from '../support/delivery.ts';
import { waitFor } from '../support/wait.ts';
import { loadConfig } from '../../src/config/load.ts';
import { startMailroom } from '../../src/main.ts';

const run = promisify(execFile);

describeEachStore('backup and restore', (engine) => {
  test('a backup taken under load restores into a store that delivers everything that was queued', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'mailroom-backup-'));
    // No delivery role: everything accepted stays queued, so the restored store has it all to deliver.
    const original = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp,http' });
    const sender = await original.createSender();
    const burst = burstSender(original.port('submission'), sender);
    const acknowledged: string[] = [];
    let sending = true;
    const load = Promise.all(Array.from({ length: 4 }, async (_, lane) => {
      for (let i = 0; sending; i += 1) acknowledged.push(await burst.send({ to: `r${lane}-${i}@restored.example` }));
    }));
    await waitFor('some messages to be acknowledged', () => acknowledged.length >= 20);
    const beforeBackup = [...acknowledged];

    const backupFile = join(scratch, engine === 'sqlite' ? 'mailroom-backup.db' : 'mailroom.dump');
    let restoredUrl: string;
    let dropRestored = async () => {};
    if (engine === 'sqlite') {
      const result = await runCli(['backup', backupFile, '--json'], cliEnv(original.database));
      assert.equal(result.code, 0, result.output);
      assert.ok(JSON.parse(result.stdout).messages >= beforeBackup.length);
    } else {
      const schema = new URL(original.database.url).searchParams.get('options')!.replace('-c search_path=', '');
      await run('pg_dump', ['--format=custom', `--schema=${schema}`, `--file=${backupFile}`, POSTGRES_URL]);
      const database = `mailroom_restore_${randomBytes(4).toString('hex')}`;
      await admin(`create database ${database}`);
      const url = new URL(POSTGRES_URL);
      url.pathname = `/${database}`;
      await run('pg_restore', ['--no-owner', `--dbname=${url.toString()}`, backupFile]);
      restoredUrl = `${url.toString()}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
      dropRestored = () => admin(`drop database ${database} with (force)`);
    }
    // The load goes on a little after the backup: those messages are not expected in it.
    await new Promise((resolve) => setTimeout(resolve, 200));
    sending = false;
    await load;
    burst.close();
    await original.stop();

    const dns = await startDnsServer();
    const mx = await startMxPeer();
    const dataDir = join(scratch, 'restored');
    try {
      if (engine === 'sqlite') {
        restoredUrl = `sqlite:${join(dataDir, 'mailroom.db')}`;
        const result = await runCli(['restore', backupFile, '--json'], cliEnv({ url: restoredUrl, dataDir }));
        assert.equal(result.code, 0, result.output);
        // A second restore over it is refused without --force.
        const again = await runCli(['restore', backupFile, '--json'], cliEnv({ url: restoredUrl, dataDir }));
        assert.equal(again.code, 4, again.output);
      }
      routeDomainToPeer(dns, 'restored.example');
      const config = loadConfig({
        MAILROOM_DATABASE_URL: restoredUrl!, MAILROOM_DATA_DIR: dataDir, MAILROOM_HOSTNAME: 'mailroom.test', MAILROOM_ROLES: 'delivery',
        MAILROOM_DNS_SERVERS: dns.address, MAILROOM_DELIVERY_PORT: String(mx.port), MAILROOM_SHUTDOWN_TIMEOUT: '2s', MAILROOM_LOG_LEVEL: 'silent',
      });
      const restored = await startMailroom(config, pino({ level: 'silent' }), { deliveryPollMs: 100, dnsCacheMs: 0 });
      try {
        const db = restored.store.db;
        const messages = (await db.selectFrom('messages').select('id').execute()).map((m) => m.id);
        for (const id of beforeBackup) assert.ok(messages.includes(id), `message ${id}, acknowledged before the backup, is in it`);
        const deliveries = await db.selectFrom('deliveries').select(['message_id', 'recipient']).execute();
        assert.deepEqual(new Set(deliveries.map((d) => d.message_id)), new Set(messages), 'every message in the copy has its deliveries');

        const received = await mx.waitFor(deliveries.length, 60_000);
        assert.deepEqual(new Set(received.flatMap((m) => m.rcptTo)), new Set(deliveries.map((d) => d.recipient)));
        await waitFor('every delivery to be recorded', async () => {
          const open = await db.selectFrom('deliveries').select('id').where('status', '!=', 'delivered').execute();
          return open.length === 0;
        }, 20_000);
      } finally {
        await restored.stop();
      }
    } finally {
      await mx.close();
      await dns.close();
      await original.database.drop();
      await dropRestored();
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
