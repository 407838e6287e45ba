/**
 * What a client sees before it sends anything: the greeting, the EHLO
 * extensions on each listener, STARTTLS, and AUTH hidden until TLS when
 * MAILROOM_INSECURE_AUTH=false. Pinned as transcripts, line for line.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { openDialogue, playTranscript } from '../support/smtp-dialogue.ts';
import { Replies, formatReply } from '../../src/smtp/replies.ts';

const SIZE = 26214400; // the 25MB default

describeEachStore('EHLO and TLS on the submission listeners', (engine) => {
  let mailroom: TestMailroom;
  let strict: TestMailroom;
  let sender: { email: string; secret: string };
  before(async () => {
    mailroom = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp' });
    strict = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp', MAILROOM_INSECURE_AUTH: 'false' });
    sender = await strict.createSender();
  });
  after(async () => {
    await mailroom?.stop();
    await strict?.stop();
  });

  it('greets with the hostname and advertises every extension, STARTTLS until it is used', async () => {
    const client = await openDialogue(mailroom.port('submission'));
    try {
      assert.equal(client.greeting, '220 mailroom.test ESMTP Mailroom');
      assert.deepEqual(await client.command('EHLO client.test'), [
        '250-mailroom.test Nice to meet you, [127.0.0.1]',
        '250-PIPELINING',
        '250-8BITMIME',
        '250-SMTPUTF8',
        '250-ENHANCEDSTATUSCODES',
        '250-AUTH PLAIN LOGIN',
        '250-STARTTLS',
        `250 SIZE ${SIZE}`,
      ]);
      await client.startTls();
      assert.deepEqual(await client.ehlo(), ['PIPELINING', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES', 'AUTH PLAIN LOGIN', `SIZE ${SIZE}`]);
      assert.equal(await client.say('STARTTLS'), '503 5.5.1 Error: TLS already active');
    } finally {
      client.close();
    }
  });

  it('speaks TLS from the first byte on the implicit TLS listener, without offering STARTTLS', async () => {
    const client = await openDialogue(mailroom.port('submissions'), { tls: true });
    try {
      assert.equal(client.greeting, '220 mailroom.test ESMTP Mailroom');
      assert.deepEqual(await client.ehlo(), ['PIPELINING', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES', 'AUTH PLAIN LOGIN', `SIZE ${SIZE}`]);
    } finally {
      client.close();
    }
  });

  it('announces a configured maximum size in SIZE', async () => {
    const small = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp', MAILROOM_MAX_MESSAGE_SIZE: '64KB' });
    const client = await openDialogue(small.port('submission'));
    try {
      assert.ok((await client.ehlo()).includes('SIZE 65536'));
    } finally {
      client.close();
      await small.stop();
    }
  });

  it('pins the whole unauthenticated dialogue: no relay without AUTH', async () => {
    const client = await openDialogue(mailroom.port('submission'));
    try {
      const { actual, expected } = await playTranscript(client, [
        ['EHLO client.test', `250 SIZE ${SIZE}`],
        ['MAIL FROM:<someone@anywhere.example>', '530 5.7.0 Authentication required: log in with your account email and secret key'],
        ['RCPT TO:<victim@elsewhere.example>', '530 5.7.0 Authentication required: log in with your account email and secret key'],
        ['DATA', '530 5.7.0 Authentication required: log in with your account email and secret key'],
        ['NOOP', '250 2.0.0 OK'],
        ['QUIT', '221 2.0.0 Bye'],
      ]);
      assert.equal(actual, expected);
      assert.equal(formatReply(Replies.authRequired()), '530 5.7.0 Authentication required: log in with your account email and secret key');
    } finally {
      client.close();
    }
  });

  it('MAILROOM_INSECURE_AUTH=false: no AUTH before STARTTLS, AUTH after it', async () => {
    const client = await openDialogue(strict.port('submission'));
    try {
      const plain = await client.ehlo();
      assert.ok(!plain.some((line) => line.startsWith('AUTH')), `AUTH advertised before TLS: ${plain.join(', ')}`);
      assert.ok(plain.includes('STARTTLS'));
      const token = Buffer.from(`\0${sender.email}\0${sender.secret}`).toString('base64');
      const { actual, expected } = await playTranscript(client, [
        [`AUTH PLAIN ${token}`, formatReply(Replies.authRequiresTls())],
        [`MAIL FROM:<${sender.email}>`, formatReply(Replies.authRequired())],
      ]);
      assert.equal(actual, expected);
      await client.startTls();
      assert.ok((await client.ehlo()).includes('AUTH PLAIN LOGIN'));
      assert.equal(await client.authPlain(sender.email, sender.secret), '235 2.7.0 Authentication successful');
      assert.equal(await client.say(`MAIL FROM:<${sender.email}>`), '250 2.1.0 Accepted');
    } finally {
      client.close();
    }
  });

  it('MAILROOM_INSECURE_AUTH=false: the implicit TLS listener offers AUTH at once', async () => {
    const client = await openDialogue(strict.port('submissions'), { tls: true });
    try {
      assert.ok((await client.ehlo()).includes('AUTH PLAIN LOGIN'));
      assert.equal(await client.authPlain(sender.email, sender.secret), '235 2.7.0 Authentication successful');
    } finally {
      client.close();
    }
  });

  it('refuses MAIL before EHLO and VRFY with fitting codes', async () => {
    const client = await openDialogue(mailroom.port('submission'));
    try {
      const { actual, expected } = await playTranscript(client, [
        ['MAIL FROM:<a@b.example>', '503 5.5.1 Error: send HELO/EHLO first'],
        ['VRFY postmaster', '500 5.5.2 Error: command not recognized'],
      ]);
      assert.equal(actual, expected);
    } finally {
      client.close();
    }
  });
});
