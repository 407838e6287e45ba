/**
 * Retention against a running Mailroom with retention periods of seconds: a
 * message still deferred when every period has passed keeps its body and
 * history and is later delivered byte for byte as it was accepted, while a
 * finished neighbour is deleted; on SQLite the pages freed go back to the
 * file system (incremental vacuum).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { describeEachStore } from '../support/stores.ts';
import { routeDomainToPeer, startDeliveryWorld, type DeliveryWorld } from '../support/delivery-world.ts';
import { findMessage } from '../../src/events/message-log.ts';
import { insertQueuedMessages } from '../../src/queue/enqueue.ts';
import { newId } from '../../src/store/ids.ts';
import { waitForMessage } from '../support/delivery.ts';
import { waitFor } from '../support/wait.ts';

describeEachStore('retention in a running Mailroom', (engine) => {
  let world: DeliveryWorld;

  before(async () => {
    world = await startDeliveryWorld(engine, {
      env: { MAILROOM_BODY_RETENTION: '1s', MAILROOM_HISTORY_RETENTION: '2s', MAILROOM_RETRY_SCHEDULE: '1s', MAILROOM_MAX_QUEUE_TIME: '1h' },
      behaviour: { rejectRcpt: (address) => (address.startsWith('later@') ? '451 4.7.1 Greylisted, try again later' : null) },
    });
    routeDomainToPeer(world.dns, 'ret.example');
  });
  after(async () => { await world?.close(); });

  test('a deferred message older than every retention period still delivers byte-identically', async () => {
    const store = world.mailroom.running.store;
    const deferredId = await world.send({ to: 'later@ret.example', subject: 'Waits out retention', text: 'Keep me.\n'.repeat(50) });
    const finishedId = await world.send({ to: 'now@ret.example', subject: 'Done quickly' });
    await waitForMessage(store, finishedId, (m) => m.recipients.every((r) => r.status === 'delivered'));
    await waitForMessage(store, deferredId, (m) => m.recipients[0].status === 'deferred');
    const accepted = Buffer.from((await store.db.selectFrom('messages').select('raw').where('id', '=', deferredId).executeTakeFirstOrThrow()).raw);

    // Finished, fat messages whose deletion frees whole pages.
    const now = Date.now();
    const fat = Array.from({ length: 40 }, () => newId());
    await store.db.transaction().execute((tx) => insertQueuedMessages(tx, fat.map((id) => ({
      id, accountId: world.sender.accountId, dailyLimit: null, mailFrom: world.sender.email, headerFrom: world.sender.email, subject: 'fat',
      raw: Buffer.from(`Subject: fat\r\n\r\n${'x'.repeat(76)}\r\n`.repeat(600)), recipients: ['gone@ret.example'], source: 'api' as const, tags: [], clientIp: null, idempotencyKey: null,
    })), now));
    await store.db.updateTable('deliveries').set({ status: 'delivered', updated_at: now }).where('message_id', 'in', fat).execute();
    const pagesBefore = engine === 'sqlite' ? await pageCount() : 0;

    await new Promise((resolve) => setTimeout(resolve, 2_200));
    const report = await world.mailroom.running.retention.runPass();
    assert.ok(report, 'this node holds the retention lease');
    assert.ok(report.messagesDeleted >= 41, `deleted ${report.messagesDeleted}`);
    assert.equal(await findMessage(store, finishedId, null), null);

    const kept = await store.db.selectFrom('messages').select(['raw', 'body_expired_at']).where('id', '=', deferredId).executeTakeFirstOrThrow();
    assert.equal(kept.body_expired_at, null);
    assert.ok(Buffer.from(kept.raw).equals(accepted));
    const view = await findMessage(store, deferredId, null);
    assert.equal(view?.recipients[0].status, 'deferred');
    assert.ok((view?.recipients[0].attempts.length ?? 0) >= 1, 'its attempts are kept');

    if (engine === 'sqlite') {
      assert.ok(report.pagesReleased > 0, 'incremental vacuum gave pages back');
      assert.ok(await pageCount() < pagesBefore, 'the database file shrank');
    }

    world.mx.script('accept');
    const received = await waitFor('the deferred message to arrive', () => world.mx.received.find((m) => m.rcptTo.includes('later@ret.example')), 15_000);
    // What arrives is the message as accepted, byte for byte, under the DKIM signature made for it.
    const tail = received.raw.subarray(received.raw.length - accepted.length);
    assert.ok(tail.equals(accepted), 'the accepted bytes arrive unchanged');
    assert.match(received.raw.subarray(0, received.raw.length - accepted.length).toString(), /^DKIM-Signature: /i);
    await waitForMessage(store, deferredId, (m) => m.recipients[0].status === 'delivered');

    async function pageCount(): Promise<number> {
      const { rows } = await sql<{ page_count: number }>`pragma page_count`.execute(store.db);
      return Number(rows[0].page_count);
    }
  });
});
