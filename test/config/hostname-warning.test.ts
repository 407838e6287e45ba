/**
 * Started with a bare host name (the machine's own, e.g. `vm`), Mailroom says
 * at once that the records and server name it hands out will not work, and
 * gives the one-line fix; with a fully qualified name it says nothing.
 */
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore, createTestDatabase, type TestDatabase } from '../support/stores.ts';
import { cliEnv, startService, type RunningService } from '../support/cli.ts';

describeEachStore('the host name warning at start', (engine) => {
  const started: RunningService[] = [];
  const databases: TestDatabase[] = [];
  after(async () => {
    for (const service of started) {
      if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGTERM');
      await service.exited;
    }
    for (const database of databases) await database.drop();
  });

  async function start(hostname: string): Promise<string> {
    const database = await createTestDatabase(engine);
    databases.push(database);
    const service = await startService(cliEnv(database, {
      MAILROOM_HOSTNAME: hostname, MAILROOM_ROLES: 'smtp', MAILROOM_SMTP_HOST: '127.0.0.1', MAILROOM_SMTP_PORT: '0', MAILROOM_SMTPS_PORT: 'off',
    }));
    started.push(service);
    return service.output();
  }

  it('warns with the fix when MAILROOM_HOSTNAME is not fully qualified', async () => {
    const output = await start('vm');
    const line = output.split('\n').find((l) => l.includes('"event":"hostname.not_fqdn"'));
    assert.ok(line, output);
    const entry = JSON.parse(line) as { level: number; hostname: string; msg: string };
    assert.equal(entry.hostname, 'vm');
    assert.match(entry.msg, /"vm" is not a fully qualified name.*not usable.*MAILROOM_HOSTNAME=mail\.example\.com/);
  });

  it('says nothing about a fully qualified name', async () => {
    assert.doesNotMatch(await start('mail.example.com'), /hostname\.not_fqdn/);
  });
});
