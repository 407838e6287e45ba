/**
 * A management command run against another store than the running service's
 * says so (the service never sees what the command changes); run against the
 * same store, it says nothing.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { cliEnv, runCli } from '../support/cli.ts';

describeEachStore('the CLI names its store when the running node uses another', (engine) => {
  let mailroom: TestMailroom;
  let elsewhere: string;

  before(async () => {
    mailroom = await startTestMailroom(engine, { MAILROOM_ROLES: 'http' });
    elsewhere = mkdtempSync(join(tmpdir(), 'mailroom-other-store-'));
  });
  after(async () => {
    await mailroom?.stop();
    rmSync(elsewhere, { recursive: true, force: true });
  });

  it('warns, naming both stores, when the command opens a different store', async () => {
    const otherUrl = `sqlite:${join(elsewhere, 'mailroom.db')}`;
    const result = await runCli(['domains', 'list'], cliEnv({ url: otherUrl, dataDir: elsewhere }, {
      MAILROOM_HTTP_HOST: '127.0.0.1', MAILROOM_HTTP_PORT: String(mailroom.port('http')),
    }));
    assert.equal(result.code, 0, result.output);
    assert.match(result.stderr, new RegExp(`this command uses the store ${otherUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(result.stderr, new RegExp(`uses a different ${engine} store`));
    assert.match(result.stderr, /MAILROOM_DATABASE_URL/);
  });

  it('says nothing when the command opens the same store', async () => {
    const result = await runCli(['domains', 'list'], cliEnv(mailroom.database, {
      MAILROOM_HTTP_HOST: '127.0.0.1', MAILROOM_HTTP_PORT: String(mailroom.port('http')),
    }));
    assert.equal(result.code, 0, result.output);
    assert.equal(result.stderr, '');
  });
});
