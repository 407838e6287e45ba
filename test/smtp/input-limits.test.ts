/**
 * Input the protocol forbids is never relayed, pinned as transcripts: a
 * command line over 512 octets gets `500 5.5.2` and the session goes on
 * (RFC 5321 4.5.3.1.4); a NUL byte, a header line or a body line over 998
 * octets gets `550 5.6.0` naming the problem (RFC 5322 2.1.1), and nothing of
 * the message is queued. A canary message on the same session shows that
 * ordinary mail still flows, the doctor lists each refusal, and each is one
 * JSON log line.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { message, openDialogue, playTranscript, queueIdOf, sendMessage, type SmtpDialogue } from '../support/smtp-dialogue.ts';
import { Replies, formatReply } from '../../src/smtp/replies.ts';
import { recentSessions } from '../../src/doctor/sessions.ts';
import { Writable } from 'node:stream';
import pino from 'pino';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const LINE_TOO_LONG = formatReply(Replies.commandLineTooLong());

describeEachStore('RFC input limits', (engine) => {
  let mailroom: TestMailroom;
  let sender: { email: string; secret: string; accountId: string; domain: string };
  const open: SmtpDialogue[] = [];
  const loggedIn = async () => {
    const client = await openDialogue(mailroom.port('submission'));
    open.push(client);
    await client.ehlo();
    assert.equal(await client.say(`AUTH PLAIN ${b64(`\0${sender.email}\0${sender.secret}`)}`), '235 2.7.0 Authentication successful');
    return client;
  };
  const queued = async () => (await mailroom.running.store.db.selectFrom('messages').select('id').where('account_id', '=', sender.accountId).execute()).length;
  const from = () => sender.email;
  const canary = async (client: SmtpDialogue) =>
    queueIdOf(await sendMessage(client, { from: from(), to: ['reader@rcpt.example'] }, message(from(), 'reader@rcpt.example', [], 'canary')));

  /** The service's JSON log lines, as an operator's log collector would get them. */
  const logLines: Array<Record<string, unknown>> = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) logLines.push(JSON.parse(line));
      done();
    },
  });

  before(async () => {
    mailroom = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp' }, undefined, pino({ level: 'warn' }, logStream));
    sender = await mailroom.createSender({ domain: 'limits.example' });
  });
  after(async () => {
    for (const client of open) client.close();
    await mailroom?.stop();
  });

  it('a command line of 512 octets is taken; 513 gets 500 5.5.2 and the session stays usable', async () => {
    const client = await loggedIn();
    const noopOf = (octets: number) => `NOOP ${'x'.repeat(octets - 'NOOP '.length - 2)}`;
    const { actual, expected } = await playTranscript(client, [
      [noopOf(512), '250 2.0.0 OK'],
      [noopOf(513), LINE_TOO_LONG],
      [`MAIL FROM:<${'a'.repeat(5000)}@limits.example>`, LINE_TOO_LONG],
      ['NOOP', '250 2.0.0 OK'],
      [`MAIL FROM:<${from()}>`, '250 2.1.0 Accepted'],
      [`RCPT TO:<${'r'.repeat(600)}@rcpt.example>`, LINE_TOO_LONG],
      ['RCPT TO:<reader@rcpt.example>', '250 2.1.5 Accepted'],
      ['RSET', '250 2.0.0 Flushed'],
    ]);
    assert.equal(actual, expected);
    await canary(client);
  });

  const refusals: Array<[name: string, data: () => string, reply: string]> = [
    ['a NUL byte in the body', () => message(from(), 'reader@rcpt.example', [], 'before\0after'), formatReply(Replies.nulByte(5))],
    ['a NUL byte in a header', () => message(from(), 'reader@rcpt.example', ['X-Bad: a\0b']), formatReply(Replies.nulByte(4))],
    ['a header line of 999 octets', () => message(from(), 'reader@rcpt.example', [`X-Long: ${'h'.repeat(999 - 'X-Long: '.length)}`]), formatReply(Replies.headerLineTooLong(4, 999))],
    ['a body line of 999 octets', () => message(from(), 'reader@rcpt.example', [], `short\r\n${'b'.repeat(999)}`), formatReply(Replies.bodyLineTooLong(6, 999))],
  ];
  for (const [name, data, reply] of refusals) {
    it(`refuses ${name} with 550 5.6.0 naming it, queues nothing, and the session goes on`, async () => {
      const client = await loggedIn();
      const before = await queued();
      assert.equal(await sendMessage(client, { from: from(), to: ['reader@rcpt.example'] }, data()), reply);
      assert.match(reply, /^550 5\.6\.0 /);
      assert.equal(await queued(), before, 'nothing of the refused message is stored');
      await canary(client);
      assert.equal(await queued(), before + 1);
    });
  }

  it('takes lines of exactly 998 octets in the header and the body', async () => {
    const client = await loggedIn();
    queueIdOf(await sendMessage(client, { from: from(), to: ['reader@rcpt.example'] },
      message(from(), 'reader@rcpt.example', [`X-Long: ${'h'.repeat(998 - 'X-Long: '.length)}`], 'b'.repeat(998))));
  });

  it('the doctor lists each refusal as failed, with the problem in words', async () => {
    const client = await loggedIn();
    await client.say(`NOOP ${'x'.repeat(600)}`);
    await sendMessage(client, { from: from(), to: ['reader@rcpt.example'] }, message(from(), 'reader@rcpt.example', [], 'a\0b'));
    assert.match(await client.say('QUIT'), /^221 /);
    const deadline = Date.now() + 5000;
    let problems: string[] = [];
    while (Date.now() < deadline) {
      await mailroom.running.smtpSessions.flush();
      const view = await recentSessions(mailroom.running.store, sender.accountId, { isAdmin: false });
      problems = view.sessions.filter((s) => s.result === 'failed').map((s) => s.problem?.code ?? '');
      if (problems.includes('forbidden-input')) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(problems.includes('forbidden-input'), `doctor problems: ${problems.join(', ')}`);
  });

  it('logs each refusal as one JSON line with the session, the reason and the reply', async () => {
    const client = await loggedIn();
    const before = logLines.length;
    await client.say(`NOOP ${'x'.repeat(600)}`);
    await sendMessage(client, { from: from(), to: ['reader@rcpt.example'] }, message(from(), 'reader@rcpt.example', [], 'a\0b'));
    await client.say('NOOP');
    const refusals = logLines.slice(before).filter((line) => line.event === 'smtp.refused');
    assert.deepEqual(refusals.map((line) => [line.reason, line.reply]), [
      ['command-line-too-long', formatReply(Replies.commandLineTooLong()).slice(4)],
      ['nul-byte', formatReply(Replies.nulByte(5)).slice(4)],
    ]);
    assert.equal(new Set(refusals.map((line) => line.session)).size, 1, 'both name the one session');
    assert.equal(typeof refusals[0].session, 'string');
  });
});
