/**
 * A key row written the way Mailroom wrote them before scopes existed (none
 * of migration 0018's columns given) reads back with full scope: the
 * columns' defaults, not the code that creates keys today, keep old keys
 * meaning what they meant.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore, createTestStore, type TestStore } from '../support/stores.ts';
import { createAccount } from '../../src/accounts/accounts.ts';
import { authenticateKey } from '../../src/accounts/authorise.ts';
import { listSecretKeys } from '../../src/accounts/keys.ts';
import { generateSecretKey, hashSecretKey, keyHint } from '../../src/accounts/secrets.ts';
import { FULL_SCOPE } from '../../src/policy/key-scope.ts';

describeEachStore('keys from before scopes', (engine) => {
  let t: TestStore;
  before(async () => { t = await createTestStore(engine); });
  after(() => t?.cleanup());

  it('keep full scope: every door, any address, no limit of their own, no expiry', async () => {
    const { account } = await createAccount(t.store, { email: 'old@example.com', dailyLimit: 10 });
    const secret = generateSecretKey();
    // Only the columns of migration 0001, as the code of that time inserted them.
    await t.store.db.insertInto('secret_keys').values({
      id: 'old-key', account_id: account.id, name: 'legacy', secret_hash: hashSecretKey(secret), hint: keyHint(secret), created_at: 1, last_used_at: null, revoked_at: null,
    } as never).execute();
    for (const door of ['smtp', 'api', 'api-send'] as const) {
      const result = await authenticateKey(t.store, { secret, email: door === 'smtp' ? 'old@example.com' : null, door, ip: '198.51.100.7' });
      assert.ok(result.ok, `${door}: ${JSON.stringify(result)}`);
      assert.deepEqual(result.principal.scope, FULL_SCOPE);
    }
    const [listed] = (await listSecretKeys(t.store, account.id)).filter((k) => k.id === 'old-key');
    assert.deepEqual(listed.scope, FULL_SCOPE);
    assert.equal(listed.lastUsedIp, '198.51.100.7');
  });
});
