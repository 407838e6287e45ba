/**
 * The message log after real deliveries: the read model the CLI and the API
 * share (events/message-log.ts), and the `mailroom messages` and `mailroom
 * suppressions` commands run as an operator runs them, against the store of a
 * running Mailroom.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describeEachStore } from '../support/stores.ts';
import { routeDomainToPeer, startDeliveryWorld, type DeliveryWorld } from '../support/delivery-world.ts';
import { getMessage, listMessages } from '../../src/events/message-log.ts';
import { insertQueuedMessages } from '../../src/queue/enqueue.ts';
import { newId } from '../../src/store/ids.ts';
import { findSuppression } from '../../src/suppressions/suppressions.ts';
import { waitForMessage } from '../support/delivery.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

interface CliResult { code: number; stdout: string; stderr: string }

function cli(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describeEachStore('message log', (engine) => {
  let world: DeliveryWorld;
  let env: Record<string, string>;
  const ids: Record<'delivered' | 'bounced' | 'both' | 'tagged', string> = { delivered: '', bounced: '', both: '', tagged: '' };

  before(async () => {
    world = await startDeliveryWorld(engine, { behaviour: { rejectRcpt: (a) => (a.startsWith('unknown') ? '550 5.1.1 User unknown' : null) } });
    routeDomainToPeer(world.dns, world.sender.domain);
    routeDomainToPeer(world.dns, 'log.example');
    env = { MAILROOM_DATABASE_URL: world.mailroom.database.url, MAILROOM_LOG_LEVEL: 'silent' };
    const store = world.mailroom.running.store;
    ids.delivered = await world.send({ to: 'ok@log.example', subject: 'First' });
    ids.bounced = await world.send({ to: 'unknown@log.example', subject: 'Second' });
    ids.both = await world.send({ to: ['ok2@log.example', 'unknown2@log.example'], subject: 'Third' });
    // Tags come from the HTTP API; queue one the way it does.
    ids.tagged = newId();
    await store.db.transaction().execute((tx) => insertQueuedMessages(tx, [{
      id: ids.tagged, accountId: world.sender.accountId, dailyLimit: null, mailFrom: world.sender.email, headerFrom: world.sender.email,
      subject: 'Tagged', raw: Buffer.from(`From: ${world.sender.email}\r\nTo: tagged@log.example\r\nSubject: Tagged\r\n\r\nhi\r\n`),
      recipients: ['tagged@log.example'], source: 'api', tags: ['weekly', '50%_off'], clientIp: null, idempotencyKey: null,
    }], Date.now()));
    for (const id of Object.values(ids)) {
      await waitForMessage(store, id, (m) => m.recipients.every((r) => r.status !== 'queued'));
    }
  });
  after(async () => { await world?.close(); });

  test('getMessage: each recipient with every attempt, its MX, IP, TLS, reply and duration', async () => {
    const message = await getMessage(world.mailroom.running.store, ids.both, null);
    assert.deepEqual(Object.keys(message).sort(), ['createdAt', 'from', 'headers', 'id', 'recipients', 'subject', 'tags']);
    assert.equal(message.from, world.sender.email);
    assert.equal(message.subject, 'Third');
    assert.ok(!Number.isNaN(Date.parse(message.createdAt)));
    const byAddress = new Map(message.recipients.map((r) => [r.address, r]));
    assert.equal(byAddress.get('ok2@log.example')?.status, 'delivered');
    assert.equal(byAddress.get('unknown2@log.example')?.status, 'bounced');
    const [attempt] = byAddress.get('unknown2@log.example')!.attempts;
    assert.deepEqual(Object.keys(attempt).sort(), ['at', 'durationMs', 'explanation', 'ip', 'mx', 'reply', 'tls']);
    assert.equal(attempt.mx, 'mx.log.example');
    assert.equal(attempt.ip, '127.0.0.1');
    assert.equal(attempt.tls?.used, true);
    assert.equal(attempt.reply, '550 5.1.1 User unknown');
    assert.equal(typeof attempt.durationMs, 'number');
    assert.equal(attempt.explanation?.summary, "The recipient's server says this mailbox does not exist.");
    const bounced = byAddress.get('unknown2@log.example')!;
    assert.deepEqual([bounced.explanation?.summary, bounced.nextAttemptAt, bounced.expiresAt], ["The recipient's server says this mailbox does not exist.", null, null]);
    assert.equal(byAddress.get('ok2@log.example')?.explanation, null);
    assert.equal(byAddress.get('ok2@log.example')?.attempts[0].explanation, null);

    await assert.rejects(getMessage(world.mailroom.running.store, ids.both, 'some-other-account'), { code: 'unknown_message' });
  });

  test('listMessages: newest first, filtered, a page at a time', async () => {
    const store = world.mailroom.running.store;
    const accountId = world.sender.accountId;
    const all = await listMessages(store, { accountId, limit: 100 });
    const mine = all.items.map((m) => m.id).filter((id) => Object.values(ids).includes(id));
    assert.deepEqual(mine, [ids.tagged, ids.both, ids.bounced, ids.delivered], 'ordered by id, newest first');

    const pages: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listMessages(store, { accountId, limit: 2, cursor });
      assert.ok(page.items.length <= 2);
      pages.push(...page.items.map((m) => m.id));
      cursor = page.next;
    } while (cursor);
    assert.deepEqual(pages, all.items.map((m) => m.id), 'the pages add up to the whole list, without gaps or repeats');

    const ofStatus = async (status: string) => (await listMessages(store, { accountId, status, limit: 100 })).items.map((m) => m.id);
    assert.deepEqual((await ofStatus('bounced')).filter((id) => Object.values(ids).includes(id)), [ids.both, ids.bounced]);
    assert.ok((await ofStatus('delivered')).includes(ids.both));
    const toRecipient = await listMessages(store, { accountId, recipient: 'UNKNOWN2@log.example', limit: 100 });
    assert.deepEqual(toRecipient.items.map((m) => m.id), [ids.both]);
    assert.deepEqual(toRecipient.items[0].recipients.map((r) => r.status).sort(), ['bounced', 'delivered']);
    assert.deepEqual((await listMessages(store, { accountId, tag: '50%_off', limit: 100 })).items.map((m) => m.id), [ids.tagged]);
    assert.deepEqual((await listMessages(store, { accountId, tag: '50', limit: 100 })).items, [], 'a tag matches whole');
    assert.deepEqual((await listMessages(store, { accountId: 'some-other-account', limit: 100 })).items, []);
    await assert.rejects(listMessages(store, { accountId, status: 'lost', limit: 10 }), { code: 'invalid_status' });
    await assert.rejects(listMessages(store, { accountId, limit: 0 }), { code: 'invalid_limit' });
  });

  // Each CLI run starts a Node process, so the commands run side by side and only the essential ones.
  test('mailroom messages show|list and suppressions list|remove, against the running service\'s store', async () => {
    const account = world.sender.email;
    const [json, text, list, missing, suppressions] = await Promise.all([
      cli(env, 'messages', 'show', ids.both, '--json'),
      cli(env, 'messages', 'show', ids.bounced),
      cli(env, 'messages', 'list', '--account', account, '--status', 'bounced', '--limit', '1', '--json'),
      cli(env, 'messages', 'show', 'nosuchmessage', '--json'),
      cli(env, 'suppressions', 'list', '--account', account, '--json'),
    ]);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), JSON.parse(JSON.stringify(await getMessage(world.mailroom.running.store, ids.both, null))));

    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /unknown@log\.example: bounced \(1 attempt\)/);
    assert.match(text.stdout, /mx\.log\.example \[127\.0\.0\.1\]\s+TLSv1\.[23] \(unverified\)\s+\d+ ms/);
    assert.match(text.stdout, /550 5\.1\.1 User unknown/);

    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout), { items: [JSON.parse(JSON.stringify((await listMessages(world.mailroom.running.store, { accountId: world.sender.accountId, status: 'bounced', limit: 1 })).items[0]))], next: ids.both });

    assert.equal(missing.code, 3, 'not found');
    assert.equal(JSON.parse(missing.stdout).error.code, 'unknown_message');

    assert.equal(suppressions.code, 0, suppressions.stderr);
    const { items } = JSON.parse(suppressions.stdout) as { items: Array<{ address: string; reason: string; createdAt: string }> };
    assert.deepEqual(items.map((s) => s.address), ['unknown2@log.example', 'unknown@log.example']);
    assert.match(items[0].reason, /550 5\.1\.1 User unknown/);
    assert.ok(!Number.isNaN(Date.parse(items[0].createdAt)));

    const removed = await cli(env, 'suppressions', 'remove', 'Unknown@log.example', '--account', account, '--json');
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(JSON.parse(removed.stdout), { address: 'unknown@log.example', removed: true });
    assert.equal(await findSuppression(world.mailroom.running.store.db, world.sender.accountId, 'unknown@log.example'), null);
    assert.ok(await world.send({ to: 'unknown@log.example' }), 'RCPT accepts the address again');
  });
});
