/**
 * The device lane, and the open-relay battery that proves it is not one: a
 * registered device's address may send without AUTH only as the senders
 * registered for it (envelope and header From), only within its own limit
 * (and its account's); every other address, and every other sender from the
 * device's address, still needs AUTH. Clients bind to 127.0.0.x so each
 * plays a different machine.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { message, openDialogue, sendMessage, type SmtpDialogue } from '../support/smtp-dialogue.ts';
import { apiClient } from '../api/client.ts';
import { cliEnv, runCliJson } from '../support/cli.ts';
import { EXIT } from '../../src/cli/context.ts';
import { Replies, formatReply } from '../../src/smtp/replies.ts';

const QUEUED = /^250 2\.0\.0 queued as \S+$/;
const PRINTER_IP = '127.0.0.21';
const NEIGHBOUR_IP = '127.0.0.22';
const STRANGER_IP = '127.0.0.23';
const LIMITED_IP = '127.0.0.24';

describeEachStore('device lane (sending without AUTH from a registered address)', (engine) => {
  let mailroom: TestMailroom;
  let office: { email: string; secret: string; accountId: string; domain: string };
  let neighbour: { email: string; secret: string; accountId: string; domain: string };
  const open: SmtpDialogue[] = [];

  const from = async (localAddress: string) => {
    const client = await openDialogue(mailroom.port('submission'), { localAddress });
    open.push(client);
    await client.ehlo();
    return client;
  };
  const stored = async () => Number((await mailroom.running.store.db.selectFrom('messages').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const send = async (ip: string, envelopeFrom: string, to: string[], headerFrom = envelopeFrom) =>
    sendMessage(await from(ip), { from: envelopeFrom, to }, message(headerFrom, to[0]));
  const register = (secret: string, body: object) => apiClient(mailroom.port('http'), secret).post('/api/v1/devices', body);

  before(async () => {
    mailroom = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp,http' });
    office = await mailroom.createSender({ domain: 'office.example', dailyLimit: 1000 });
    neighbour = await mailroom.createSender({ domain: 'neighbour.example', dailyLimit: 1000 });
    const printer = await register(office.secret, { name: 'scanner', ipRanges: [`${PRINTER_IP}/32`], from: ['scanner@office.example'], dailyLimit: 100 });
    assert.equal(printer.status, 201, JSON.stringify(printer.body));
    assert.equal((await register(neighbour.secret, { ipRanges: [NEIGHBOUR_IP], from: ['fax@neighbour.example'], dailyLimit: 100 })).status, 201);
    assert.equal((await register(office.secret, { name: 'copier', ipRanges: [LIMITED_IP], from: ['copier@office.example'], dailyLimit: 2 })).status, 201);
  });
  after(async () => {
    for (const client of open) client.close();
    await mailroom?.stop();
  });

  it('takes mail from a registered address without AUTH for its own sender, counted for the device and the account', async () => {
    const before = await stored();
    assert.match(await send(PRINTER_IP, 'scanner@office.example', ['boss@rcpt.example']), QUEUED);
    assert.match(await send(PRINTER_IP, 'Scanner@Office.example', ['a@rcpt.example', 'b@rcpt.example']), QUEUED, 'addresses compare without case');
    assert.equal(await stored(), before + 2);
    const row = await mailroom.running.store.db.selectFrom('messages').select(['account_id', 'raw']).orderBy('created_at', 'desc').limit(1).executeTakeFirstOrThrow();
    assert.equal(row.account_id, office.accountId);
    assert.match(Buffer.from(row.raw).toString(), /with ESMTP id/, 'the trace header says no AUTH was used (ESMTP, not ESMTPA)');
    const devices = await apiClient(mailroom.port('http'), office.secret).get('/api/v1/devices');
    assert.equal(devices.body.items.find((d: any) => d.name === 'scanner').sentLast24h, 3);
    const account = await apiClient(mailroom.port('http'), office.secret).get('/api/v1/account');
    assert.ok(account.body.sentLast24h >= 3, 'and against the account');
  });

  it('refuses every other envelope sender from the device, naming what it may send as', async () => {
    const client = await from(PRINTER_IP);
    const scope = Replies.senderOutsideDeviceScope('boss@office.example', 'scanner@office.example');
    assert.equal(await client.say('MAIL FROM:<boss@office.example>'), formatReply(scope), 'another address of the same account');
    assert.match(formatReply(scope), /^550 5\.7\.1 This device may send without logging in only as scanner@office\.example; boss@office\.example is outside its scope/);
    assert.equal(await client.say('MAIL FROM:<fax@neighbour.example>'), formatReply(Replies.senderDomainNotAdded('neighbour.example')), "another account's address");
    assert.equal(await client.say('MAIL FROM:<anyone@gmail.com>'), formatReply(Replies.senderDomainNotAdded('gmail.com')), 'a stranger domain');
    assert.equal(await client.say('MAIL FROM:<>'), formatReply(Replies.nullSenderNotAllowed()));
    assert.equal(await client.say('RCPT TO:<victim@rcpt.example>'), '503 5.5.1 Error: need MAIL command', 'no transaction was opened');
  });

  it('refuses a spoofed header From at the end of DATA and keeps nothing', async () => {
    const before = await stored();
    const spoofs: Array<[string, string]> = [
      ['boss@office.example', formatReply(Replies.senderOutsideDeviceScope('boss@office.example', 'scanner@office.example'))],
      ['"scanner@office.example" <ceo@office.example>', formatReply(Replies.senderOutsideDeviceScope('ceo@office.example', 'scanner@office.example'))],
      ['scanner@office.example, boss@office.example', formatReply(Replies.senderOutsideDeviceScope('boss@office.example', 'scanner@office.example'))],
      ['fax@neighbour.example', formatReply(Replies.headerFromNotAllowed('neighbour.example'))],
    ];
    for (const [headerFrom, expected] of spoofs) {
      assert.equal(await send(PRINTER_IP, 'scanner@office.example', ['victim@rcpt.example'], headerFrom), expected, headerFrom);
    }
    assert.equal(await stored(), before);
  });

  it("stops a device at its own daily limit, while the account's keys go on", async () => {
    assert.match(await send(LIMITED_IP, 'copier@office.example', ['a@rcpt.example', 'b@rcpt.example']), QUEUED);
    const client = await from(LIMITED_IP);
    assert.equal(await client.say('MAIL FROM:<copier@office.example>'), '250 2.1.0 Accepted');
    assert.match(await client.say('RCPT TO:<c@rcpt.example>'), /^451 4\.7\.1 This device's daily sending limit of 2 emails reached; it resets at \S+Z$/);
    const loggedIn = await from(LIMITED_IP);
    assert.equal(await loggedIn.authPlain(office.email, office.secret), '235 2.7.0 Authentication successful');
    assert.match(await sendMessage(loggedIn, { from: 'copier@office.example', to: ['c@rcpt.example'] }, message('copier@office.example', 'c@rcpt.example')), QUEUED,
      'a login from the same address is the key, not the device');
  });

  it('needs AUTH from every unregistered address, and from a device address for anything a key may send', async () => {
    const stranger = await from(STRANGER_IP);
    assert.equal(await stranger.say('MAIL FROM:<scanner@office.example>'), formatReply(Replies.authRequired()));
    assert.equal(await stranger.say('RCPT TO:<victim@rcpt.example>'), formatReply(Replies.authRequired()));
    assert.equal(await stranger.say('DATA'), formatReply(Replies.authRequired()));
    // The neighbour's device cannot send as the office, and its address is no back door into the office's account.
    assert.equal(await send(NEIGHBOUR_IP, 'scanner@office.example', ['victim@rcpt.example']), formatReply(Replies.senderDomainNotAdded('office.example')));
    assert.match(await send(NEIGHBOUR_IP, 'fax@neighbour.example', ['r@rcpt.example']), QUEUED);

    const boss = await from(PRINTER_IP);
    assert.equal(await boss.authPlain(office.email, office.secret), '235 2.7.0 Authentication successful');
    assert.match(await sendMessage(boss, { from: 'boss@office.example', to: ['r@rcpt.example'] }, message('boss@office.example', 'r@rcpt.example')), QUEUED);
  });

  it('refuses overlapping ranges (across accounts above all), malformed ranges and foreign senders at registration', async () => {
    const cases: Array<[string, object, number, string, string]> = [
      [neighbour.secret, { ipRanges: ['127.0.0.0/24'], from: ['fax@neighbour.example'], dailyLimit: 5 }, 409, 'ip_range_overlap', 'ipRanges'],
      [neighbour.secret, { ipRanges: [`::ffff:${PRINTER_IP}`], from: ['fax@neighbour.example'], dailyLimit: 5 }, 409, 'ip_range_overlap', 'ipRanges'],
      [office.secret, { ipRanges: [`${PRINTER_IP}/32`], from: ['scanner@office.example'], dailyLimit: 5 }, 409, 'ip_range_overlap', 'ipRanges'],
      [office.secret, { ipRanges: ['10.0.0.0/8', '10.1.2.3/40'], from: ['scanner@office.example'], dailyLimit: 5 }, 400, 'invalid_ip_range', 'ipRanges'],
      [office.secret, { ipRanges: ['10.0.0.0/8'], from: ['fax@neighbour.example'], dailyLimit: 5 }, 400, 'from_outside_account', 'from'],
      [office.secret, { ipRanges: ['10.0.0.0/8'], from: ['scanner@office.example'], dailyLimit: 5000 }, 400, 'invalid_daily_limit', 'dailyLimit'],
    ];
    for (const [secret, body, status, code, field] of cases) {
      const answer = await register(secret, body);
      assert.equal(answer.status, status, JSON.stringify([body, answer.body]));
      assert.equal(answer.body.error.code, code);
      assert.equal(answer.body.error.field, field);
    }
    const acrossAccounts = await register(neighbour.secret, { ipRanges: ['127.0.0.0/24'], from: ['fax@neighbour.example'], dailyLimit: 5 });
    assert.match(acrossAccounts.body.error.message, /overlaps a device of another account/);
    assert.doesNotMatch(acrossAccounts.body.error.message, /scanner|office/, "another account's device is not described");
    assert.match((await register(office.secret, { ipRanges: ['10.1.2.3/40'], from: ['scanner@office.example'], dailyLimit: 5 })).body.error.message, /ipRanges\[0\]: "10\.1\.2\.3\/40"/);
  });

  it('registers, lists and removes devices from the CLI; a removed device must log in again', async () => {
    const env = cliEnv(mailroom.database, {});
    const added = await runCliJson<{ id: string; ipRanges: string[] }>(['devices', 'add', '--account', office.email, '--ip', '127.0.0.30/31', '--from', 'office.example', '--daily-limit', '10', '--name', 'mfp'], env);
    assert.equal(added.code, EXIT.ok, added.output);
    assert.deepEqual(added.json.ipRanges, ['127.0.0.30/31']);
    assert.match(await send('127.0.0.31', 'anyone@office.example', ['r@rcpt.example']), QUEUED, 'a whole domain may be registered');
    const overlap = await runCliJson<{ error: { code: string; field: string } }>(['devices', 'add', '--account', neighbour.email, '--ip', '127.0.0.31', '--from', 'fax@neighbour.example', '--daily-limit', '1'], env);
    assert.equal(overlap.code, EXIT.conflict, overlap.output);
    assert.deepEqual([overlap.json.error.code, overlap.json.error.field], ['ip_range_overlap', 'ipRanges']);
    const removed = await runCliJson(['devices', 'remove', added.json.id], env);
    assert.equal(removed.code, EXIT.ok, removed.output);
    assert.equal(await send('127.0.0.31', 'anyone@office.example', ['r@rcpt.example']), formatReply(Replies.authRequired()));
  });
});
