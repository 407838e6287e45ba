/**
 * A certificate change reaches every TLS listener without a restart: new
 * handshakes, implicit TLS and STARTTLS alike, get the new certificate, while
 * sessions established before keep theirs and carry on — down to sending a
 * message.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { describeEachStore } from '../support/stores.ts';
import { createLeaf, createTestCa, storeCertificate, type Pem } from '../support/test-certificates.ts';
import { openImplicitTls, openStartTls } from '../support/smtp-dialogue.ts';

describeEachStore('TLS listeners swap certificates without dropping sessions', (engine) => {
  let mailroom: TestMailroom;
  let ca: Pem;

  before(async () => {
    mailroom = await startTestMailroom(engine);
    ca = await createTestCa();
  });
  after(() => mailroom?.stop());

  it('new handshakes get the stored certificate; established sessions keep theirs and still send', async () => {
    const sender = await mailroom.createSender();
    const host = mailroom.config.hostname;
    const implicit = await openImplicitTls({ port: mailroom.port('submissions'), servername: host });
    const starttls = await openStartTls({ port: mailroom.port('submission'), servername: host });
    assert.match(await implicit.say('EHLO client.test'), /^250 /);
    assert.match(await starttls.say('EHLO client.test'), /^250 /);
    const oldSerial = implicit.serial();
    assert.equal(mailroom.running.certificates!.current().selfSigned, true);

    await storeCertificate(mailroom.running.store, host, await createLeaf({ names: [host], ca }));
    await mailroom.running.certificates!.check();
    assert.equal(mailroom.running.certificates!.current().selfSigned, false);
    assert.equal(mailroom.running.certificates!.status(ca.cert).gmailAccepts, true);

    for (const open of [openImplicitTls, openStartTls]) {
      const port = open === openImplicitTls ? mailroom.port('submissions') : mailroom.port('submission');
      const fresh = await open({ port, servername: host, ca: ca.cert });
      assert.equal(fresh.socket.authorized, true, `${open.name} verifies the new certificate`);
      fresh.close();
    }

    for (const [index, session] of [implicit, starttls].entries()) {
      assert.equal(session.serial(), oldSerial);
      const credentials = Buffer.from(`\0${sender.email}\0${sender.secret}`).toString('base64');
      assert.match(await session.say(`AUTH PLAIN ${credentials}`), /^235 /);
      assert.match(await session.say(`MAIL FROM:<${sender.email}>`), /^250 /);
      assert.match(await session.say(`RCPT TO:<someone-${index}@example.net>`), /^250 /);
      assert.match(await session.say('DATA'), /^354 /);
      assert.match(await session.say(`From: <${sender.email}>\r\nSubject: still here\r\n\r\nhello\r\n.`), /^250 2\.0\.0 queued as /);
      session.close();
    }
  });
});
