/**
 * The limits a client runs into: the rolling 24-hour sending limit (one
 * recipient = one email) within a message, across messages and across
 * connections; the message size, announced and actually sent; and the
 * number of recipients per message.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { message, openDialogue, queueIdOf, sendMessage, type SmtpDialogue } from '../support/smtp-dialogue.ts';
import { Replies, formatReply } from '../../src/smtp/replies.ts';
import { LIMIT_WINDOW_MS } from '../../src/policy/limits.ts';

const MAX_SIZE = 64 * 1024;
const MAX_RECIPIENTS = 5;
const MINUTE = 60_000;

/** The reset time a limit reply names, checked to be the one Replies would say. */
function resetOf(reply: string, limit: number): number {
  const match = /^451 4\.7\.1 Daily sending limit of (\d+) emails reached; it resets at (\S+)$/.exec(reply);
  assert.ok(match, `not a daily limit reply: ${reply}`);
  assert.equal(Number(match[1]), limit);
  const at = Date.parse(match[2]);
  assert.equal(reply, formatReply(Replies.dailyLimitReached(limit, at)));
  return at;
}

/** The oldest counted email leaves the window 24 hours after the end of its minute. */
function assertResetsAfterFirstSend(resetsAt: number, firstSentBetween: [number, number]): void {
  const earliest = (Math.floor(firstSentBetween[0] / MINUTE) + 1) * MINUTE + LIMIT_WINDOW_MS;
  const latest = (Math.floor(firstSentBetween[1] / MINUTE) + 1) * MINUTE + LIMIT_WINDOW_MS;
  assert.ok(resetsAt >= earliest && resetsAt <= latest, `resets at ${new Date(resetsAt).toISOString()}, expected 24h after the first send`);
}

describeEachStore('sending limit, size and recipients', (engine) => {
  let mailroom: TestMailroom;
  const open: SmtpDialogue[] = [];
  let senders = 0;

  const newSender = (dailyLimit: number) => mailroom.createSender({ domain: `limits${++senders}.example`, dailyLimit });
  const loggedIn = async (sender: { email: string; secret: string }) => {
    const client = await openDialogue(mailroom.port('submission'));
    open.push(client);
    await client.ehlo();
    assert.equal(await client.authPlain(sender.email, sender.secret), '235 2.7.0 Authentication successful');
    return client;
  };
  const rcpts = (n: number, prefix = 'r') => Array.from({ length: n }, (_, i) => `${prefix}${i}@rcpt.example`);
  const deliveriesOf = async (messageId: string) =>
    (await mailroom.running.store.db.selectFrom('deliveries').select('recipient').where('message_id', '=', messageId).execute()).map((r) => r.recipient).sort();
  const messageCount = async (accountId: string) =>
    (await mailroom.running.store.db.selectFrom('messages').select('id').where('account_id', '=', accountId).execute()).length;

  before(async () => {
    mailroom = await startTestMailroom(engine, {
      MAILROOM_ROLES: 'smtp', MAILROOM_MAX_MESSAGE_SIZE: '64KB', MAILROOM_MAX_RECIPIENTS: String(MAX_RECIPIENTS),
    });
  });
  after(async () => {
    for (const client of open) client.close();
    await mailroom?.stop();
  });

  it('refuses the recipient that would go over the limit within one message, and takes the rest', async () => {
    const sender = await newSender(3);
    const client = await loggedIn(sender);
    assert.equal(await client.say(`MAIL FROM:<${sender.email}>`), '250 2.1.0 Accepted');
    for (const rcpt of rcpts(3)) assert.equal(await client.say(`RCPT TO:<${rcpt}>`), '250 2.1.5 Accepted');
    const refused = await client.say('RCPT TO:<one-too-many@rcpt.example>');
    resetOf(refused, 3);
    assert.equal(await client.say('DATA'), '354 End data with <CR><LF>.<CR><LF>');
    client.write(`${message(sender.email, 'r0@rcpt.example')}.\r\n`);
    const id = queueIdOf((await client.reply())[0]);
    assert.deepEqual(await deliveriesOf(id), rcpts(3));
  });

  it('counts every recipient of earlier messages: the limit is hit across two messages', async () => {
    const sender = await newSender(3);
    const client = await loggedIn(sender);
    const firstSentFrom = Date.now();
    queueIdOf(await sendMessage(client, { from: sender.email, to: rcpts(2, 'a') }, message(sender.email, 'a0@rcpt.example')));
    const firstSentTo = Date.now();
    assert.equal(await client.say(`MAIL FROM:<${sender.email}>`), '250 2.1.0 Accepted');
    assert.equal(await client.say('RCPT TO:<b0@rcpt.example>'), '250 2.1.5 Accepted');
    const refused = await client.say('RCPT TO:<b1@rcpt.example>');
    assertResetsAfterFirstSend(resetOf(refused, 3), [firstSentFrom, firstSentTo]);
    assert.equal(refused.slice(0, 10), '451 4.7.1 ');
  });

  it('counts across connections, and refuses every recipient once the limit is used up', async () => {
    const sender = await newSender(2);
    const firstSentFrom = Date.now();
    queueIdOf(await sendMessage(await loggedIn(sender), { from: sender.email, to: rcpts(2) }, message(sender.email, 'r0@rcpt.example')));
    const firstSentTo = Date.now();
    const second = await loggedIn(sender);
    const reply = await sendMessage(second, { from: sender.email, to: ['late@rcpt.example'] }, message(sender.email, 'late@rcpt.example'));
    assertResetsAfterFirstSend(resetOf(reply, 2), [firstSentFrom, firstSentTo]);
    assert.equal(await messageCount(sender.accountId), 1);
  });

  it('re-checks at commit: two connections that both passed RCPT cannot both go over the limit', async () => {
    const sender = await newSender(2);
    const [a, b] = [await loggedIn(sender), await loggedIn(sender)];
    for (const client of [a, b]) {
      assert.equal(await client.say(`MAIL FROM:<${sender.email}>`), '250 2.1.0 Accepted');
      for (const rcpt of rcpts(2)) assert.equal(await client.say(`RCPT TO:<${rcpt}>`), '250 2.1.5 Accepted');
      assert.equal(await client.say('DATA'), '354 End data with <CR><LF>.<CR><LF>');
    }
    a.write(`${message(sender.email, 'r0@rcpt.example')}.\r\n`);
    queueIdOf((await a.reply())[0]);
    b.write(`${message(sender.email, 'r0@rcpt.example')}.\r\n`);
    resetOf((await b.reply())[0], 2);
    assert.equal(await messageCount(sender.accountId), 1);
  });

  it('counts a recipient repeated in one envelope once', async () => {
    const sender = await newSender(2);
    const client = await loggedIn(sender);
    const id = queueIdOf(await sendMessage(client, { from: sender.email, to: ['same@rcpt.example', 'Same@RCPT.example', 'other@rcpt.example'] }, message(sender.email, 'same@rcpt.example')));
    assert.equal((await deliveriesOf(id)).length, 2);
  });

  it('refuses MAIL FROM announcing a SIZE over the maximum with 552 5.3.4, and takes one at the maximum', async () => {
    const sender = await newSender(100);
    const client = await loggedIn(sender);
    assert.match(await client.say(`MAIL FROM:<${sender.email}> SIZE=${MAX_SIZE + 1}`), /^552 5\.3\.4 /);
    assert.equal(await client.say(`MAIL FROM:<${sender.email}> SIZE=${MAX_SIZE}`), '250 2.1.0 Accepted');
  });

  it('refuses a message that is actually too big with 552 5.3.4, stores nothing, and the session goes on', async () => {
    const sender = await newSender(100);
    const client = await loggedIn(sender);
    const big = message(sender.email, 'r@rcpt.example', [], `${'x'.repeat(998)}\r\n`.repeat(70));
    assert.ok(Buffer.byteLength(big) > MAX_SIZE);
    assert.equal(await sendMessage(client, { from: sender.email, to: ['r@rcpt.example'] }, big), formatReply(Replies.messageTooBig(MAX_SIZE)));
    assert.equal(formatReply(Replies.messageTooBig(MAX_SIZE)).slice(0, 10), '552 5.3.4 ');
    assert.equal(await messageCount(sender.accountId), 0);
    queueIdOf(await sendMessage(client, { from: sender.email, to: ['r@rcpt.example'] }, message(sender.email, 'r@rcpt.example')));
  });

  it(`refuses recipient ${MAX_RECIPIENTS + 1} with 452 4.5.3 and queues the first ${MAX_RECIPIENTS}`, async () => {
    const sender = await newSender(100);
    const client = await loggedIn(sender);
    assert.equal(await client.say(`MAIL FROM:<${sender.email}>`), '250 2.1.0 Accepted');
    for (const rcpt of rcpts(MAX_RECIPIENTS)) assert.equal(await client.say(`RCPT TO:<${rcpt}>`), '250 2.1.5 Accepted');
    const refused = await client.say('RCPT TO:<sixth@rcpt.example>');
    assert.equal(refused, formatReply(Replies.tooManyRecipients(MAX_RECIPIENTS)));
    assert.equal(refused, `452 4.5.3 Too many recipients; at most ${MAX_RECIPIENTS} per message`);
    assert.equal(await client.say('DATA'), '354 End data with <CR><LF>.<CR><LF>');
    client.write(`${message(sender.email, 'r0@rcpt.example')}.\r\n`);
    const id = queueIdOf((await client.reply())[0]);
    assert.deepEqual(await deliveriesOf(id), rcpts(MAX_RECIPIENTS));
  });
});
