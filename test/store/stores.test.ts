import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
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

  test('a large body round-trips, stored in 16 KB pages (SQLite) or lz4-compressed (PostgreSQL)', async () => {
    const line = 'The quick brown fox jumps over the lazy dog, again and again and again.\r\n';
    const raw = Buffer.from(line.repeat(700));
    await t.store.db.insertInto('messages').values({
      id: 'm-large', account_id: null, mail_from: '', header_from: '', subject: '', size: raw.length, raw, dkim_signature: null,
      source: 'dsn', tags: '[]', client_ip: null, idempotency_key: null, created_at: Date.now(),
    }).execute();
    const row = await t.store.db.selectFrom('messages').select('raw').where('id', '=', 'm-large').executeTakeFirstOrThrow();
    assert.ok(Buffer.from(row.raw).equals(raw));
    if (engine === 'sqlite') {
      const { rows } = await sql<{ page_size: number }>`pragma page_size`.execute(t.store.db);
      assert.equal(Number(rows[0].page_size), 16384);
    } else {
      const { rows } = await sql<{ method: string | null }>`select pg_column_compression(raw) as method from messages where id = 'm-large'`.execute(t.store.db);
      assert.equal(rows[0].method, 'lz4');
    }
  });
});
