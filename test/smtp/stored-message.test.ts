/**
 * What an accepted message looks like in the store: the client's bytes, with
 * a Received trace header in front and Message-ID and Date added only when
 * missing; one delivery row per recipient; the queue id of the 250 reply.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { openDialogue, queueIdOf, sendMessage, type SmtpDialogue } from '../support/smtp-dialogue.ts';

describeEachStore('the stored message', (engine) => {
  let mailroom: TestMailroom;
  let sender: { email: string; secret: string; accountId: string; domain: string };
  const open: SmtpDialogue[] = [];

  const loggedIn = async (options: { tls?: boolean; starttls?: boolean } = {}) => {
    const client = await openDialogue(mailroom.port(options.tls ? 'submissions' : 'submission'), { tls: options.tls });
    open.push(client);
    await client.ehlo('laptop.client.test');
    if (options.starttls) {
      await client.startTls();
      await client.ehlo('laptop.client.test');
    }
    assert.equal(await client.authPlain(sender.email, sender.secret), '235 2.7.0 Authentication successful');
    return client;
  };
  const stored = async (id: string) => {
    const row = await mailroom.running.store.db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const deliveries = await mailroom.running.store.db.selectFrom('deliveries').selectAll().where('message_id', '=', id).orderBy('recipient').execute();
    return { row, raw: Buffer.from(row.raw), deliveries };
  };
  const headerBlock = (raw: Buffer) => raw.subarray(0, raw.indexOf('\r\n\r\n')).toString('utf8');

  before(async () => {
    mailroom = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp' });
    sender = await mailroom.createSender({ domain: 'shop.example' });
  });
  after(async () => {
    for (const client of open) client.close();
    await mailroom?.stop();
  });

  it('adds Received, Message-ID and Date in front of the client\'s bytes, which are kept as sent', async () => {
    const client = await loggedIn();
    const data = ['From: "Shop" <orders@shop.example>', 'To: alice@rcpt.example', 'Subject: Your order', '', 'Line one', '..leading dot (dot-stuffed)', 'End', ''].join('\r\n');
    const before = Date.now();
    const id = queueIdOf(await sendMessage(client, { from: 'orders@shop.example', to: ['alice@rcpt.example', 'bob@rcpt.example'] }, data));
    const { row, raw, deliveries } = await stored(id);

    const lines = raw.toString('utf8').split('\r\n');
    assert.match(lines[0], /^Received: from laptop\.client\.test \(\[127\.0\.0\.1\]\)$/);
    assert.equal(lines[1], `\tby mailroom.test (Mailroom submission) with ESMTPA id ${id};`);
    assert.match(lines[2], /^\t\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    assert.equal(lines[3], `Message-ID: <${id}@mailroom.test>`);
    assert.match(lines[4], /^Date: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    const date = Date.parse(lines[4].slice('Date: '.length));
    assert.ok(date >= Math.floor(before / 1000) * 1000 && date <= Date.now(), 'Date is the time of acceptance');
    // Byte for byte what the client sent, dot-stuffing undone.
    assert.equal(raw.subarray(raw.indexOf('From: ')).toString('utf8'), data.replace('..leading', '.leading'));

    assert.equal(row.account_id, sender.accountId);
    assert.equal(row.mail_from, 'orders@shop.example');
    assert.equal(row.header_from, 'orders@shop.example');
    assert.equal(row.subject, 'Your order');
    assert.equal(row.source, 'smtp');
    assert.equal(row.client_ip, '127.0.0.1');
    assert.equal(Number(row.size), raw.length);
    assert.deepEqual(deliveries.map((d) => [d.recipient, d.recipient_domain, d.status]), [
      ['alice@rcpt.example', 'rcpt.example', 'queued'],
      ['bob@rcpt.example', 'rcpt.example', 'queued'],
    ]);
  });

  it('keeps a Message-ID and Date the client wrote, adding neither', async () => {
    const client = await loggedIn();
    const data = ['From: orders@shop.example', 'To: alice@rcpt.example', 'Message-ID: <own-id@shop.example>', 'Date: Mon, 02 Feb 2026 10:00:00 +0100', 'Subject: mine', '', 'x', ''].join('\r\n');
    const id = queueIdOf(await sendMessage(client, { from: 'orders@shop.example', to: ['alice@rcpt.example'] }, data));
    const headers = headerBlock((await stored(id)).raw);
    assert.equal(headers.match(/^Message-ID:/gim)?.length, 1);
    assert.equal(headers.match(/^Date:/gim)?.length, 1);
    assert.match(headers, /^Message-ID: <own-id@shop\.example>$/m);
    assert.match(headers, /^Date: Mon, 02 Feb 2026 10:00:00 \+0100$/m);
    assert.equal(headers.match(/^Received:/gm)?.length, 1);
  });

  it('names TLS in the trace header: ESMTPSA after STARTTLS and on the implicit TLS listener', async () => {
    for (const [options, listener] of [[{ starttls: true }, 'submission'], [{ tls: true }, 'submissions']] as const) {
      const client = await loggedIn(options);
      const data = ['From: orders@shop.example', 'To: alice@rcpt.example', 'Subject: tls', '', 'x', ''].join('\r\n');
      const id = queueIdOf(await sendMessage(client, { from: 'orders@shop.example', to: ['alice@rcpt.example'] }, data));
      const received = headerBlock((await stored(id)).raw).split('\r\nMessage-ID')[0];
      assert.match(received, new RegExp(`by mailroom\\.test \\(Mailroom ${listener}\\) with ESMTPSA id ${id} \\(version=TLSv1\\.[23] cipher=[A-Z0-9_-]+\\);`));
    }
  });

  it('keeps 8-bit and SMTPUTF8 content byte for byte and decodes an encoded subject', async () => {
    const client = await loggedIn();
    assert.equal(await client.say('MAIL FROM:<orders@shop.example> BODY=8BITMIME SMTPUTF8'), '250 2.1.0 Accepted');
    assert.equal(await client.say('RCPT TO:<jürgen@empfänger.example>'), '250 2.1.5 Accepted');
    assert.equal(await client.say('DATA'), '354 End data with <CR><LF>.<CR><LF>');
    const data = ['From: orders@shop.example', 'To: jürgen@empfänger.example', 'Subject: =?UTF-8?B?R3LDvMOfZQ==?=', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', 'Grüße, 你好', ''].join('\r\n');
    client.write(`${data}.\r\n`);
    const id = queueIdOf((await client.reply())[0]);
    const { row, raw, deliveries } = await stored(id);
    assert.ok(raw.subarray(raw.indexOf('From: ')).equals(Buffer.from(data, 'utf8')));
    assert.equal(row.subject, 'Grüße');
    assert.deepEqual(deliveries.map((d) => d.recipient), ['jürgen@empfänger.example']);
  });

  it('answers several pipelined messages in one session, each with its own queue id', async () => {
    const client = await loggedIn();
    const one = ['From: orders@shop.example', 'To: a@rcpt.example', 'Subject: 1', '', 'one', ''].join('\r\n');
    const two = ['From: orders@shop.example', 'To: b@rcpt.example', 'Subject: 2', '', 'two', ''].join('\r\n');
    // The whole of both transactions in one write, as a PIPELINING client may (RFC 2920 stops at DATA, we do not need to).
    client.write(`MAIL FROM:<orders@shop.example>\r\nRCPT TO:<a@rcpt.example>\r\nDATA\r\n`);
    assert.deepEqual([...(await client.reply()), ...(await client.reply()), ...(await client.reply())], ['250 2.1.0 Accepted', '250 2.1.5 Accepted', '354 End data with <CR><LF>.<CR><LF>']);
    client.write(`${one}.\r\nMAIL FROM:<orders@shop.example>\r\nRCPT TO:<b@rcpt.example>\r\nDATA\r\n`);
    const first = queueIdOf((await client.reply())[0]);
    assert.deepEqual([...(await client.reply()), ...(await client.reply()), ...(await client.reply())], ['250 2.1.0 Accepted', '250 2.1.5 Accepted', '354 End data with <CR><LF>.<CR><LF>']);
    client.write(`${two}.\r\n`);
    const second = queueIdOf((await client.reply())[0]);
    assert.notEqual(first, second);
    assert.deepEqual((await stored(first)).deliveries.map((d) => d.recipient), ['a@rcpt.example']);
    assert.deepEqual((await stored(second)).deliveries.map((d) => d.recipient), ['b@rcpt.example']);
  });
});
