/**
 * What keeps a full disk from losing mail: the per-account storage budget,
 * the data directory's free-space guard, and a commit that fails (as on a
 * full disk). Each refuses with a temporary error over SMTP and the API,
 * acknowledges nothing it did not store, and lets mail in again by itself.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { sql } from 'kysely';
import { describeEachStore } from '../support/stores.ts';
import { routeDomainToPeer, startDeliveryWorld, type DeliveryWorld } from '../support/delivery-world.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { apiClient } from '../api/client.ts';
import { waitForMessage } from '../support/delivery.ts';
import { waitFor } from '../support/wait.ts';

interface SendOutcome { ok: boolean; reply: string }

async function trySend(send: () => Promise<string>): Promise<SendOutcome & { id?: string }> {
  try {
    const id = await send();
    return { ok: true, reply: '250', id };
  } catch (error) {
    return { ok: false, reply: String((error as { response?: string }).response ?? (error as Error).message) };
  }
}

describeEachStore('storage budget', (engine) => {
  let world: DeliveryWorld;

  before(async () => {
    world = await startDeliveryWorld(engine, { env: { MAILROOM_STORAGE_BUDGET: '6KB', MAILROOM_BODY_RETENTION: '1s', MAILROOM_HISTORY_RETENTION: 'off' } });
    routeDomainToPeer(world.dns, 'budget.example');
  });
  after(async () => { await world?.close(); });

  test('over its budget an account gets 452 4.3.1 (API: 429) and sees its usage; retention frees it again', async () => {
    const api = apiClient(world.mailroom.port('http'), world.sender.secret);
    const text = 'y'.repeat(2000);
    const first = await trySend(() => world.send({ to: 'a@budget.example', text }));
    const second = await trySend(() => world.send({ to: 'b@budget.example', text }));
    assert.ok(first.ok && second.ok, `${first.reply} / ${second.reply}`);
    const third = await trySend(() => world.send({ to: 'c@budget.example', text }));
    assert.equal(third.ok, false);
    assert.match(third.reply, /^452 4\.3\.1 Storage budget of your account used up \(\d+ of 6144 bytes held\)/);

    const account = await api.get('/api/v1/account');
    const sizes = await world.mailroom.running.store.db.selectFrom('messages').select('size').where('account_id', '=', world.sender.accountId).execute();
    assert.deepEqual(account.body.storage, { usedBytes: sizes.reduce((sum, m) => sum + Number(m.size), 0), budgetBytes: 6144 });
    assert.equal(sizes.length, 2, 'the refused message was not stored');

    const viaApi = await api.post('/api/v1/messages', { from: world.sender.email, to: 'd@budget.example', subject: 's', text });
    assert.equal(viaApi.status, 429);
    assert.equal(viaApi.body.error.code, 'storage_budget_exceeded');
    assert.ok(viaApi.headers.get('retry-after'));

    // Delivered, then past the body retention: the bytes are no longer held.
    await waitForMessage(world.mailroom.running.store, first.id!, (m) => m.recipients[0].status === 'delivered');
    await waitForMessage(world.mailroom.running.store, second.id!, (m) => m.recipients[0].status === 'delivered');
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const report = await world.mailroom.running.retention.runPass();
    assert.equal(report?.bodiesExpired, 2);
    assert.equal((await api.get('/api/v1/account')).body.storage.usedBytes, 0);
    const again = await trySend(() => world.send({ to: 'c@budget.example', text }));
    assert.ok(again.ok, again.reply);
  });
});

describeEachStore('disk-space guard and failing commits', (engine) => {
  let mailroom: TestMailroom;
  let sender: Awaited<ReturnType<TestMailroom['createSender']>>;
  const ballast = () => join(mailroom.database.dataDir, 'ballast');

  function freeBytes(dir: string): number {
    const stats = statfsSync(dir);
    return Number(stats.bavail) * Number(stats.bsize);
  }

  function smtpSend(): Promise<SendOutcome> {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1', port: mailroom.port('submission'), secure: false, ignoreTLS: true, auth: { user: sender.email, pass: sender.secret },
    });
    return trySend(async () => (await transport.sendMail({ from: sender.email, to: 'x@elsewhere.example', subject: 'hi', text: 'hi' })).response)
      .finally(() => transport.close());
  }

  async function metric(name: string): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${mailroom.port('http')}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
  }

  before(async () => {
    // The threshold sits 200 MB below the free space now; a 400 MB file crosses it either way.
    const probe = await startTestMailroom(engine);
    const threshold = Math.floor((freeBytes(probe.database.dataDir) - 200 * 1024 * 1024) / 1024);
    await probe.stop();
    await probe.database.drop();
    // No delivery role: these messages only need to be accepted (or not).
    mailroom = await startTestMailroom(engine, { MAILROOM_MIN_FREE_SPACE: `${threshold}KB`, MAILROOM_ROLES: 'smtp,http' }, { deliveryPollMs: 200, dnsCacheMs: 0, diskCheckMs: 100 });
    sender = await mailroom.createSender();
  });
  after(async () => {
    rmSync(ballast(), { force: true });
    await mailroom?.stop();
    await mailroom?.database.drop();
  });

  test('below MAILROOM_MIN_FREE_SPACE new mail is refused with 452 4.3.1 (API: 507), an alert metric is up, and it resumes by itself', async () => {
    assert.ok((await smtpSend()).ok);
    assert.equal(await metric('mailroom_disk_space_low'), 0);

    execFileSync('fallocate', ['-l', String(400 * 1024 * 1024), ballast()]);
    await waitFor('the guard to see the disk low', async () => (await metric('mailroom_disk_space_low')) === 1);
    const before = await mailroom.running.store.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const refused = await smtpSend();
    assert.equal(refused.ok, false);
    assert.match(refused.reply, /^452 4\.3\.1 Insufficient system storage/);
    const api = apiClient(mailroom.port('http'), sender.secret);
    const viaApi = await api.post('/api/v1/messages', { from: sender.email, to: 'y@elsewhere.example', subject: 's', text: 't' });
    assert.deepEqual([viaApi.status, viaApi.body.error.code], [507, 'insufficient_storage']);
    const after = await mailroom.running.store.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(after.n), Number(before.n), 'nothing was stored');

    rmSync(ballast());
    await waitFor('the guard to see the space back', async () => (await metric('mailroom_disk_space_low')) === 0);
    assert.ok((await smtpSend()).ok);
  });

  test('a commit that fails (as on a full disk) gets 451 4.3.0 (API: 503) and acknowledges nothing', async () => {
    const db = mailroom.running.store.db;
    // The store itself refuses the write, as it would with no space left.
    if (engine === 'sqlite') {
      await sql`create trigger disk_full before insert on messages begin select raise(abort, 'database or disk is full'); end`.execute(db);
    } else {
      await sql`create function disk_full() returns trigger language plpgsql as $$ begin raise exception 'could not extend file: No space left on device' using errcode = 'disk_full'; end $$`.execute(db);
      await sql`create trigger disk_full before insert on messages for each row execute function disk_full()`.execute(db);
    }
    const before = await db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    try {
      const refused = await smtpSend();
      assert.equal(refused.ok, false);
      assert.match(refused.reply, /^451 4\.3\.0 /);
      const api = apiClient(mailroom.port('http'), sender.secret);
      const viaApi = await api.post('/api/v1/messages', { from: sender.email, to: 'y@elsewhere.example', subject: 's', text: 't' });
      assert.deepEqual([viaApi.status, viaApi.body.error.code], [503, 'not_accepted']);
      const after = await db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(after.n), Number(before.n));
    } finally {
      await sql`drop trigger disk_full${sql.raw(engine === 'postgres' ? ' on messages' : '')}`.execute(db);
      if (engine === 'postgres') await sql`drop function disk_full()`.execute(db);
    }
    assert.ok((await smtpSend()).ok, 'accepted again once the store can write');
  });
});
