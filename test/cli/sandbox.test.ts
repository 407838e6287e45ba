/**
 * Sandbox mode from the shell: `accounts create --sandbox`, new accounts
 * sandboxed by MAILROOM_NEW_ACCOUNTS_SANDBOXED, `accounts sandbox EMAIL
 * --lift|--on`, and `keys create --sandbox` — each checked in the store the
 * service reads (accounts/sandbox.ts decides what the edges see).
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore, createTestStore, type TestStore } from '../support/stores.ts';
import { cliEnv, runCliJson } from '../support/cli.ts';
import { EXIT } from '../../src/cli/context.ts';
import { isSandboxed } from '../../src/accounts/sandbox.ts';

interface CreatedJson { account: { id: string; email: string }; key: { id: string; secret: string } }

describeEachStore('mailroom accounts sandbox (CLI)', (engine) => {
  let db: TestStore;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    db = await createTestStore(engine);
    env = cliEnv(db);
  });
  after(async () => { await db?.cleanup(); });

  it('starts accounts in the sandbox when asked or configured, and lifts it', async () => {
    const plain = await runCliJson<CreatedJson>(['accounts', 'create', 'plain@shop.example'], env);
    assert.equal(plain.code, EXIT.ok, plain.output);
    assert.equal(await isSandboxed(db.store.db, plain.json.account.id, null), false);

    const configured = await runCliJson<CreatedJson>(['accounts', 'create', 'trial@shop.example'], { ...env, MAILROOM_NEW_ACCOUNTS_SANDBOXED: 'true' });
    assert.equal(await isSandboxed(db.store.db, configured.json.account.id, configured.json.key.id), true);

    const lifted = await runCliJson<{ email: string; sandbox: boolean }>(['accounts', 'sandbox', 'trial@shop.example', '--lift'], env);
    assert.deepEqual(lifted.json, { email: 'trial@shop.example', sandbox: false });
    assert.equal(await isSandboxed(db.store.db, configured.json.account.id, null), false);

    const on = await runCliJson<{ sandbox: boolean }>(['accounts', 'sandbox', 'plain@shop.example', '--on'], env);
    assert.equal(on.json.sandbox, true);
    assert.equal(await isSandboxed(db.store.db, plain.json.account.id, null), true);
    const both = await runCliJson<{ error: { code: string } }>(['accounts', 'sandbox', 'plain@shop.example', '--on', '--lift'], env);
    assert.equal(both.code, EXIT.invalid);
  });

  it('keys create --sandbox makes a key whose mail is sandboxed while the account is not', async () => {
    const account = await runCliJson<CreatedJson>(['accounts', 'create', 'dev@shop.example'], env);
    const key = await runCliJson<{ id: string }>(['keys', 'create', '--account', 'dev@shop.example', '--name', 'ci', '--sandbox'], env);
    assert.equal(key.code, EXIT.ok, key.output);
    assert.equal(await isSandboxed(db.store.db, account.json.account.id, key.json.id), true);
    assert.equal(await isSandboxed(db.store.db, account.json.account.id, account.json.key.id), false);
  });
});
