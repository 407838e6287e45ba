/**
 * What comes back after delivery: a remote server's bounce (RFC 3464) or a
 * mailbox provider's complaint (ARF, RFC 5965) mailed to the VERP return path
 * the peer saw, at the mx listener. It changes the recipient's status and
 * suppresses the address; mail for any other address is refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { routeDomainToPeer, startDeliveryWorld, type DeliveryWorld } from '../support/delivery-world.ts';
import { findSuppression } from '../../src/suppressions/suppressions.ts';
import { smtpTransaction, statusesOf, waitForMessage } from '../support/delivery.ts';
import { waitFor } from '../support/wait.ts';

const CRLF = '\r\n';

/** A DSN as a remote MTA writes one, for a message it accepted and could not deliver later. */
function remoteDsn(returnPath: string, recipients: string[]): string {
  const perRecipient = recipients.map((r) => [
    `Final-Recipient: rfc822; ${r}`, 'Original-Recipient: rfc822;' + r, 'Action: failed', 'Status: 5.1.1',
    'Remote-MTA: dns; mailbox.remote.example', 'Diagnostic-Code: smtp; 550 5.1.1 <' + r + '>: Recipient address rejected: User unknown in local recipient table',
  ].join(CRLF)).join(CRLF + CRLF);
  return [
    'From: MAILER-DAEMON@remote.example (Mail Delivery System)', `To: ${returnPath}`, 'Subject: Undelivered Mail Returned to Sender',
    'MIME-Version: 1.0', 'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"', '',
    '--b1', 'Content-Type: text/plain', '', 'Your message could not be delivered.', '',
    '--b1', 'Content-Type: message/delivery-status', '', 'Reporting-MTA: dns; remote.example', 'Arrival-Date: Mon, 1 Jan 2024 00:00:00 +0000', '', perRecipient, '',
    '--b1', 'Content-Type: text/rfc822-headers', '', 'From: someone', 'Subject: the original', '',
    '--b1--', '',
  ].join(CRLF);
}

/** An abuse report as a feedback loop sends one (RFC 5965). */
function arfComplaint(returnPath: string, recipient: string, sender: string): string {
  return [
    'From: feedback@fbl.remote.example', `To: ${returnPath}`, 'Subject: Abuse report', 'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=feedback-report; boundary="f1"', '',
    '--f1', 'Content-Type: text/plain', '', 'This is an email abuse report.', '',
    '--f1', 'Content-Type: message/feedback-report', '', 'Feedback-Type: abuse', 'User-Agent: RemoteFBL/1.0', 'Version: 1',
    `Original-Mail-From: <${returnPath}>`, `Original-Rcpt-To: <${recipient}>`, 'Arrival-Date: Mon, 1 Jan 2024 00:00:00 +0000', '',
    '--f1', 'Content-Type: message/rfc822', '', `From: ${sender}`, `To: ${recipient}`, 'Subject: the original', '', 'body', '',
    '--f1--', '',
  ].join(CRLF);
}

describeEachStore('inbound bounce and complaint reports', (engine) => {
  let world: DeliveryWorld;
  let mxPort: number;
  before(async () => {
    world = await startDeliveryWorld(engine, { env: { MAILROOM_MX_PORT: '0' } });
    routeDomainToPeer(world.dns, world.sender.domain);
    mxPort = world.mailroom.port('mx');
  });
  after(async () => { await world?.close(); });

  /** Delivers a message and returns its id and the Return-Path the peer received it with. */
  async function deliver(to: string[]): Promise<{ id: string; returnPath: string }> {
    for (const address of to) routeDomainToPeer(world.dns, address.split('@')[1]);
    const id = await world.send({ to });
    await waitForMessage(world.mailroom.running.store, id, (m) => m.recipients.every((r) => r.status === 'delivered'));
    const received = await waitFor('the peer to get it', () => world.mx.received.find((m) => m.rcptTo.includes(to[0])));
    return { id, returnPath: received.mailFrom };
  }

  test('a DSN mailed to the VERP return path marks the delivery bounced and suppresses the address', async () => {
    const { id, returnPath } = await deliver(['gone@late.example']);
    assert.match(returnPath, /^b\+[0-9a-z]+\.[a-z2-7]{8}@bounces\./);
    const result = await smtpTransaction(mxPort, { from: '', to: [returnPath] }, remoteDsn(returnPath, ['gone@late.example']));
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.match(result.response, /^250 2\.0\.0 report received/);
    const message = await waitForMessage(world.mailroom.running.store, id, (m) => m.recipients[0].status === 'bounced');
    assert.equal(message.recipients[0].status, 'bounced');
    const suppression = await findSuppression(world.mailroom.running.store.db, world.sender.accountId, 'gone@late.example');
    assert.match(suppression?.reason ?? '', /User unknown/);
  });

  test('a DSN for one recipient of a shared transaction bounces only that recipient', async () => {
    const { id, returnPath } = await deliver(['one@shared.example', 'two@shared.example']);
    const result = await smtpTransaction(mxPort, { from: '', to: [returnPath] }, remoteDsn(returnPath, ['two@shared.example']));
    assert.equal(result.ok, true, JSON.stringify(result));
    const message = await waitForMessage(world.mailroom.running.store, id, (m) => m.recipients.some((r) => r.status === 'bounced'));
    assert.deepEqual(statusesOf(message), { 'one@shared.example': 'delivered', 'two@shared.example': 'bounced' });
  });

  test('an ARF complaint marks the recipient complained and suppresses the address', async () => {
    const { id, returnPath } = await deliver(['grumpy@complain.example']);
    const result = await smtpTransaction(mxPort, { from: '', to: [returnPath] }, arfComplaint(returnPath, 'grumpy@complain.example', world.sender.email));
    assert.equal(result.ok, true, JSON.stringify(result));
    const message = await waitForMessage(world.mailroom.running.store, id, (m) => m.recipients[0].status === 'complained');
    assert.equal(message.recipients[0].status, 'complained');
    const suppression = await findSuppression(world.mailroom.running.store.db, world.sender.accountId, 'grumpy@complain.example');
    assert.match(suppression?.reason ?? '', /complaint/);
  });

  test('mail for any other address, or a forged VERP address, is refused with 550 5.1.1', async () => {
    const { returnPath } = await deliver(['someone@forge.example']);
    const forged = returnPath.replace(/\.([a-z2-7]{8})@/, (_m, tag: string) => `.${tag.startsWith('a') ? 'b' : 'a'}${tag.slice(1)}@`);
    for (const address of ['postmaster@mailroom.test', `owner@${world.sender.domain}`, forged]) {
      const result = await smtpTransaction(mxPort, { from: 'someone@elsewhere.example', to: [address] }, 'Subject: hi\r\n\r\nhello\r\n');
      assert.equal(result.ok, false, address);
      assert.ok(!result.ok && result.responseCode === 550 && /^550 5\.1\.1 /.test(result.response), `${address}: ${JSON.stringify(result)}`);
    }
  });
});
