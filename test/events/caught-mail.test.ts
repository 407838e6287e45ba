/**
 * Caught mail is bounded per account: a receive-here address that strangers
 * find and flood keeps only the newest CAUGHT_PER_ACCOUNT messages, and the
 * events of those dropped go with them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore, createTestStore, type TestStore } from '../support/stores.ts';
import { createAccount } from '../../src/accounts/accounts.ts';
import { CAUGHT_PER_ACCOUNT, catchMessage, listCaught, readCaughtMail } from '../../src/events/caught-mail.ts';
import { newId } from '../../src/store/ids.ts';

describeEachStore('caught mail per account', (engine) => {
  let t: TestStore;
  let accountId: string;
  before(async () => {
    t = await createTestStore(engine);
    accountId = (await createAccount(t.store, { email: 'owner@flood.example', dailyLimit: 10 })).account.id;
  });
  after(async () => { await t?.cleanup(); });

  test(`keeps the newest ${CAUGHT_PER_ACCOUNT} messages of an account, with their events`, async () => {
    const start = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < CAUGHT_PER_ACCOUNT + 2; i += 1) {
      const raw = Buffer.from(`From: spam${i}@elsewhere.example\r\nTo: you@flood.example\r\nSubject: flood ${i}\r\n\r\nYour code: ${100000 + i}\r\n`);
      const read = await readCaughtMail(raw, `spam${i}@elsewhere.example`);
      const id = newId();
      await t.store.db.transaction().execute((tx) => catchMessage(tx, { id, read, request: { accountId, recipient: 'you@flood.example', mailFrom: `spam${i}@elsewhere.example`, raw, clientIp: '127.0.0.1', now: start + i, retentionMs: 86_400_000 } }));
      ids.push(id);
    }
    const kept = await listCaught(t.store, accountId, start, 1000);
    assert.equal(kept.length, CAUGHT_PER_ACCOUNT);
    assert.equal(kept[0].id, ids.at(-1), 'newest first');
    assert.equal(kept[0].code, String(100000 + CAUGHT_PER_ACCOUNT + 1));
    assert.ok(!kept.some((m) => m.id === ids[0] || m.id === ids[1]), 'the two oldest went');
    const events = await t.store.db.selectFrom('message_events').select('id').where('type', '=', 'mail_caught').where('account_id', '=', accountId).execute();
    assert.equal(events.length, CAUGHT_PER_ACCOUNT);
  });
});
