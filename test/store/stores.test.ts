import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStore, describeEachStore, type TestStore } from '../support/stores.ts';

describeEachStore('store', (engine) => {
  let t: TestStore;
  before(async () => { t = await createTestStore(engine); });
  after(async () => { await t.cleanup(); });

  test('migrations ran and the tables are empty', async () => {
    assert.deepEqual(await t.store.db.selectFrom('accounts').selectAll().execute(), []);
  });

  test('binary bodies round-trip byte for byte', async () => {
    const raw = Buffer.from([0, 1, 2, 255, 13, 10, 46]);
    await t.store.db.insertInto('messages').values({
      id: 'm1', account_id: null, mail_from: '', header_from: '', subject: '', size: raw.length, raw, dkim_signature: null,
      source: 'dsn', tags: '[]', client_ip: null, idempotency_key: null, created_at: Date.now(),
    }).execute();
    const row = await t.store.db.selectFrom('messages').select(['raw', 'created_at']).where('id', '=', 'm1').executeTakeFirstOrThrow();
    assert.deepEqual(Buffer.from(row.raw), raw);
    assert.equal(typeof row.created_at, 'number');
  });
});
