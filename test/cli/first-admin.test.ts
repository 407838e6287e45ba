/**
 * The first start's admin password is never written to a log. Run as a
 * service whose output is not a terminal (as under systemd or in a
 * container), `mailroom start` puts it in a file only its user can read and
 * says where; no output line carries it. On a terminal it is printed once,
 * under the banner (revealFirstAdmin with terminal: true).
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { describeEachStore, createTestDatabase, type TestDatabase } from '../support/stores.ts';
import { cliEnv, startService, type RunningService } from '../support/cli.ts';
import { openStore } from '../../src/store/database.ts';
import { verifyPassword } from '../../src/accounts/secrets.ts';
import { revealFirstAdmin } from '../../src/cli/first-admin.ts';

describeEachStore('the first admin password', (engine) => {
  let database: TestDatabase;
  let service: RunningService | null = null;
  before(async () => { database = await createTestDatabase(engine); });
  after(async () => {
    if (service && service.child.exitCode === null) {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    await database?.drop();
  });

  it('goes to a file readable by its owner only, never into the output or the logs', async () => {
    service = await startService(cliEnv(database, {
      MAILROOM_ROLES: 'smtp,http', MAILROOM_SMTP_HOST: '127.0.0.1', MAILROOM_SMTP_PORT: '0', MAILROOM_SMTPS_PORT: 'off',
      MAILROOM_HTTP_HOST: '127.0.0.1', MAILROOM_HTTP_PORT: '0', MAILROOM_LOG_LEVEL: 'info',
    }));
    const deadline = Date.now() + 10_000;
    while (!(/its password is in/.test(service.output()) && /admin.created/.test(service.output())) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const file = /its password is in (\S+) /.exec(service.output())?.[1];
    assert.ok(file, service.output());
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const [email, password] = readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(email, 'admin@mailroom.test');
    assert.ok(!service.output().includes(password), 'the password is in no output line');
    assert.match(service.output(), /"event":"admin.created"/, 'the creation itself is logged');
    const store = await openStore(database.url);
    try {
      const row = await store.db.selectFrom('accounts').select('password_hash').where('email', '=', email).executeTakeFirstOrThrow();
      assert.equal(await verifyPassword(row.password_hash, password), true);
    } finally {
      await store.close();
    }
  });
});

it('on a terminal, is printed once with how to change it', () => {
  const text = revealFirstAdmin({ email: 'admin@mailroom.test', password: 'pw-123456789' }, { terminal: true, dataDir: '/nonexistent' });
  assert.match(text, /^First start: dashboard login admin@mailroom\.test \/ pw-123456789\n/);
  assert.match(text, /mailroom accounts set-password admin@mailroom\.test/);
});
