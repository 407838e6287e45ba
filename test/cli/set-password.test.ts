/**
 * `mailroom accounts set-password`: the operator's reset of a dashboard
 * password, which the login page promises. A given password or a generated
 * one (printed once); the old password stops working, the account's
 * dashboard sessions end, and unknown accounts and weak passwords are
 * refused with the CLI's exit codes.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore, createTestDatabase, type TestDatabase } from '../support/stores.ts';
import { cliEnv, runCli, runCliJson } from '../support/cli.ts';
import { EXIT } from '../../src/cli/context.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { createAccount } from '../../src/accounts/accounts.ts';
import { verifyPassword } from '../../src/accounts/secrets.ts';
import { createSession, resolveSession } from '../../src/accounts/sessions.ts';

describeEachStore('mailroom accounts set-password (CLI)', (engine) => {
  let database: TestDatabase;
  let env: NodeJS.ProcessEnv;
  let store: Store;
  const passwordWorks = async (email: string, password: string) => {
    const row = await store.db.selectFrom('accounts').select('password_hash').where('email', '=', email).executeTakeFirstOrThrow();
    return verifyPassword(row.password_hash, password);
  };

  before(async () => {
    database = await createTestDatabase(engine);
    env = cliEnv(database);
    store = await openStore(database.url);
  });
  after(async () => {
    await store?.close();
    await database?.drop();
  });

  it('sets a given password, or generates and prints one; the old one stops working and sessions end', async () => {
    const { account } = await createAccount(store, { email: 'forgot@apps.example', password: 'the old password', dailyLimit: 10 });
    const session = await createSession(store, account.id);

    const given = await runCliJson<{ account: { id: string; email: string }; password?: string }>(['accounts', 'set-password', 'Forgot@Apps.Example', '--password', 'a brand new password'], env);
    assert.equal(given.code, 0, given.output);
    assert.deepEqual(given.json, { account: { id: account.id, email: 'forgot@apps.example' } });
    assert.equal(await passwordWorks('forgot@apps.example', 'a brand new password'), true);
    assert.equal(await passwordWorks('forgot@apps.example', 'the old password'), false);
    assert.equal(await resolveSession(store, session.token), null, 'signed-in dashboards are signed out');

    const generated = await runCli(['accounts', 'set-password', 'forgot@apps.example'], env);
    assert.equal(generated.code, 0, generated.output);
    const printed = /Dashboard password \(shown only now\): (\S+)/.exec(generated.stdout)?.[1];
    assert.ok(printed, generated.output);
    assert.equal(await passwordWorks('forgot@apps.example', printed), true);
  });

  it('refuses an unknown account (exit 3) and a short password (exit 2), changing nothing', async () => {
    const unknown = await runCliJson<{ error: { code: string; field?: string } }>(['accounts', 'set-password', 'nobody@apps.example'], env);
    assert.deepEqual([unknown.code, unknown.json.error.code], [EXIT.notFound, 'unknown_account']);
    await createAccount(store, { email: 'keep@apps.example', password: 'keep this password', dailyLimit: 10 });
    const weak = await runCliJson<{ error: { code: string; field?: string } }>(['accounts', 'set-password', 'keep@apps.example', '--password', 'short'], env);
    assert.deepEqual([weak.code, weak.json.error.code, weak.json.error.field], [EXIT.invalid, 'weak_password', 'password']);
    assert.equal(await passwordWorks('keep@apps.example', 'keep this password'), true);
  });
});
