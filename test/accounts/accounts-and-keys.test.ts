/**
 * Accounts and secret keys in the store: what is accepted, how it is
 * normalised, what a key check answers, and that revoking is scoped.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore, createTestStore, type TestStore } from '../support/stores.ts';
import { createAccount, findAccountByEmail, getAccountByEmail, setDailyLimit } from '../../src/accounts/accounts.ts';
import { createSecretKey, listSecretKeys, revokeSecretKey } from '../../src/accounts/keys.ts';
import { checkSecretKey } from '../support/keys.ts';
import { verifyPassword } from '../../src/accounts/secrets.ts';
import { UserError } from '../../src/errors.ts';

const userError = (kind: string, code: string) => (error: unknown) => {
  assert.ok(error instanceof UserError, String(error));
  assert.equal(error.kind, kind);
  assert.equal(error.code, code);
  return true;
};

describeEachStore('accounts and secret keys', (engine) => {
  let t: TestStore;
  before(async () => { t = await createTestStore(engine); });
  after(() => t?.cleanup());

  it('creates an account with a first key, normalising the email; the password is stored hashed', async () => {
    const created = await createAccount(t.store, { email: '  Alice@Example.COM ', dailyLimit: 500, password: 'correct horse battery' });
    assert.equal(created.account.email, 'alice@example.com');
    assert.equal(created.account.dailyLimit, 500);
    assert.equal(created.account.isAdmin, false);
    assert.equal(created.key.name, 'default');
    assert.equal(created.password, 'correct horse battery');
    const row = await t.store.db.selectFrom('accounts').selectAll().where('id', '=', created.account.id).executeTakeFirstOrThrow();
    assert.notEqual(row.password_hash, 'correct horse battery');
    assert.equal(await verifyPassword(row.password_hash, 'correct horse battery'), true);
    assert.deepEqual(await findAccountByEmail(t.store, 'ALICE@example.com'), created.account);
    const keyRow = await t.store.db.selectFrom('secret_keys').selectAll().where('id', '=', created.key.id).executeTakeFirstOrThrow();
    assert.ok(!JSON.stringify(keyRow).includes(created.key.secret), 'only a hash of the secret is stored');
  });

  it('refuses a duplicate (in any case), a malformed email, a bad limit and a short password', async () => {
    await assert.rejects(createAccount(t.store, { email: 'ALICE@example.com', dailyLimit: 1 }), userError('conflict', 'account_exists'));
    for (const email of ['alice', 'a@b', 'a b@example.com', '<a@example.com>', '']) {
      await assert.rejects(createAccount(t.store, { email, dailyLimit: 1 }), userError('invalid', 'invalid_email'), email);
    }
    for (const dailyLimit of [0, -1, 1.5, Number.NaN]) {
      await assert.rejects(createAccount(t.store, { email: 'b@example.com', dailyLimit }), userError('invalid', 'invalid_daily_limit'));
    }
    await assert.rejects(createAccount(t.store, { email: 'b@example.com', dailyLimit: 1, password: 'short' }), userError('invalid', 'weak_password'));
    assert.equal(await findAccountByEmail(t.store, 'b@example.com'), null);
    await assert.rejects(getAccountByEmail(t.store, 'b@example.com'), userError('not-found', 'unknown_account'));
  });

  it('checks a key: the right account, wrong keys, unknown accounts, revoked keys', async () => {
    const { account, key } = await createAccount(t.store, { email: 'carol@example.com', dailyLimit: 10 });
    const other = await createAccount(t.store, { email: 'dave@example.com', dailyLimit: 10 });
    assert.deepEqual(await checkSecretKey(t.store, key.secret, 'Carol@Example.com'), { ok: true, accountId: account.id, email: 'carol@example.com', dailyLimit: 10, keyId: key.id });
    assert.deepEqual(await checkSecretKey(t.store, key.secret, null), { ok: true, accountId: account.id, email: 'carol@example.com', dailyLimit: 10, keyId: key.id }, 'the API finds the account from the key alone');
    assert.deepEqual(await checkSecretKey(t.store, other.key.secret, 'carol@example.com'), { ok: false, reason: 'wrong-key' });
    assert.deepEqual(await checkSecretKey(t.store, 'mr_guess', 'carol@example.com'), { ok: false, reason: 'wrong-key' });
    assert.deepEqual(await checkSecretKey(t.store, key.secret, 'nobody@example.com'), { ok: false, reason: 'unknown-account' });
    assert.deepEqual(await checkSecretKey(t.store, '', 'carol@example.com'), { ok: false, reason: 'wrong-key' });

    await setDailyLimit(t.store, account.id, 25);
    assert.equal((await checkSecretKey(t.store, key.secret, 'carol@example.com') as { dailyLimit: number }).dailyLimit, 25, 'a changed limit applies at the next login');

    const laptop = await createSecretKey(t.store.db, account.id, '  laptop  ');
    assert.equal(laptop.name, 'laptop');
    await revokeSecretKey(t.store, laptop.id, account.id);
    assert.deepEqual(await checkSecretKey(t.store, laptop.secret, 'carol@example.com'), { ok: false, reason: 'revoked-key' });
    assert.equal((await checkSecretKey(t.store, key.secret, 'carol@example.com')).ok, true);
    await revokeSecretKey(t.store, laptop.id, null); // revoking twice is harmless
    const listed = await listSecretKeys(t.store, account.id);
    assert.deepEqual(listed.map((k) => [k.name, k.revokedAt !== null]), [['default', false], ['laptop', true]]);
    assert.equal(listed[0].hint, `…${key.secret.slice(-4)}`);
    assert.ok(listed[0].lastUsedAt !== null, 'a successful check records when the key was used');
  });

  it("does not let one account revoke another account's key, and says the key is unknown", async () => {
    const erin = await createAccount(t.store, { email: 'erin@example.com', dailyLimit: 10 });
    const frank = await createAccount(t.store, { email: 'frank@example.com', dailyLimit: 10 });
    await assert.rejects(revokeSecretKey(t.store, frank.key.id, erin.account.id), userError('not-found', 'unknown_key'));
    assert.equal((await checkSecretKey(t.store, frank.key.secret, 'frank@example.com')).ok, true);
    await assert.rejects(revokeSecretKey(t.store, 'no-such-key', null), userError('not-found', 'unknown_key'));
  });

  it('refuses key names that are empty or too long', async () => {
    const { account } = await createAccount(t.store, { email: 'gina@example.com', dailyLimit: 10 });
    await assert.rejects(createSecretKey(t.store.db, account.id, '  '), userError('invalid', 'invalid_key_name'));
    await assert.rejects(createSecretKey(t.store.db, account.id, 'x'.repeat(101)), userError('invalid', 'invalid_key_name'));
  });
});
