/**
 * What becomes of each recipient, proven against a scripted peer: deferred and
 * retried until accepted, bounced with an RFC 3464 DSN to the sender and the
 * address suppressed (so the next submission to it is refused at RCPT), one
 * message whose recipients on three domains end three different ways, and
 * mail that stays deferred past MAILROOM_MAX_QUEUE_TIME expiring with a DSN.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { routeDomainToPeer, startDeliveryWorld, type DeliveryWorld } from '../support/delivery-world.ts';
import type { MxScript } from '../support/mx-peer.ts';
import { findSuppression } from '../../src/suppressions/suppressions.ts';
import { parseInboundReport } from '../../src/events/inbound-report.ts';
import { dsnsTo, headerOf, statusesOf, waitForMessage } from '../support/delivery.ts';
import { waitFor } from '../support/wait.ts';

const UNKNOWN_USER = '550 5.1.1 User unknown';
const TRY_LATER = '451 4.7.1 Try again later';

/**
 * The peer's answer by local part: unknown* never exist, busy* always defer, flaky* defer twice,
 * once* once (at RCPT); late* is deferred once after the whole message was sent (at the final dot).
 */
function scriptedByLocalPart(): MxScript {
  const seen = new Map<string, number>();
  const lateSeen = new Set<string>();
  return {
    dataReply(_raw, rcptTo) {
      const late = rcptTo.find((address) => address.toLowerCase().startsWith('late') && !lateSeen.has(address));
      if (!late) return null;
      lateSeen.add(late);
      return TRY_LATER;
    },
    rejectRcpt(address) {
      const local = address.toLowerCase().split('@')[0];
      if (local.startsWith('unknown')) return UNKNOWN_USER;
      if (local.startsWith('busy')) return TRY_LATER;
      const deferrals = local.startsWith('flaky') ? 2 : local.startsWith('once') ? 1 : 0;
      if (deferrals > 0) {
        const n = (seen.get(address) ?? 0) + 1;
        seen.set(address, n);
        return n <= deferrals ? TRY_LATER : null;
      }
      return null;
    },
  };
}

function dsnAbout(world: DeliveryWorld, recipient: string) {
  return waitFor(`a DSN about ${recipient}`, () => dsnsTo(world.mx, world.sender.email).find((m) => m.raw.toString().includes(`Final-Recipient: rfc822; ${recipient}`)));
}

describeEachStore('delivery outcomes', (engine) => {
  let world: DeliveryWorld;
  before(async () => {
    world = await startDeliveryWorld(engine, { behaviour: scriptedByLocalPart(), env: { MAILROOM_RETRY_SCHEDULE: '1s' } });
    routeDomainToPeer(world.dns, world.sender.domain);
  });
  after(async () => { await world?.close(); });

  test('a recipient deferred twice (4xx) arrives on the third attempt', async () => {
    routeDomainToPeer(world.dns, 'retry.example');
    const id = await world.send({ to: 'flaky@retry.example' });
    const message = await waitForMessage(world.mailroom.running.store, id, (m) => m.recipients[0].status === 'delivered');
    const attempts = message.recipients[0].attempts;
    assert.equal(attempts.length, 3);
    assert.deepEqual(attempts.map((a) => a.reply.slice(0, 3)), ['451', '451', '250']);
    assert.equal(attempts[0].reply, TRY_LATER);
    assert.ok(Date.parse(attempts[2].at) - Date.parse(attempts[0].at) >= 1500, 'the retries waited for the schedule');
    assert.equal(world.mx.received.filter((m) => m.rcptTo.includes('flaky@retry.example')).length, 1);
  });

  test('a retry sends the very bytes of the first attempt: the DKIM signature is made once and kept', async () => {
    routeDomainToPeer(world.dns, 'late.example');
    const id = await world.send({ to: 'late@late.example' });
    await waitForMessage(world.mailroom.running.store, id, (m) => m.recipients[0].status === 'delivered');
    const sent = world.mx.transmitted.filter((m) => m.rcptTo.includes('late@late.example'));
    assert.equal(sent.length, 2, 'refused once at the final dot, then accepted');
    assert.match(headerOf(sent[0].raw, 'dkim-signature') ?? '', /d=/);
    assert.ok(sent[1].raw.equals(sent[0].raw), 'the retry is byte for byte the first attempt');
  });

  test('recipients deferred together are retried together, in one transaction', async () => {
    routeDomainToPeer(world.dns, 'together.example');
    const recipients = ['once-a@together.example', 'once-b@together.example', 'once-c@together.example'];
    const id = await world.send({ to: recipients });
    const message = await waitForMessage(world.mailroom.running.store, id, (m) => m.recipients.every((r) => r.status === 'delivered'));
    assert.ok(message.recipients.every((r) => r.attempts.length === 2));
    const arrived = world.mx.received.filter((m) => m.rcptTo.some((r) => r.endsWith('@together.example')));
    assert.equal(arrived.length, 1, `one transaction for the retry, got ${arrived.map((m) => m.rcptTo.join(' ')).join(' | ')}`);
    assert.deepEqual([...arrived[0].rcptTo].sort(), recipients);
  });

  test('a 5xx recipient bounces, the sender gets a DSN, and the address is suppressed and refused at RCPT', async () => {
    routeDomainToPeer(world.dns, 'bounce.example');
    const id = await world.send({ to: 'unknown-1@bounce.example', subject: 'Will bounce' });
    const message = await waitForMessage(world.mailroom.running.store, id, (m) => m.recipients[0].status !== 'queued');
    assert.deepEqual(statusesOf(message), { 'unknown-1@bounce.example': 'bounced' });
    assert.equal(message.recipients[0].attempts.length, 1);
    assert.equal(message.recipients[0].attempts[0].reply, UNKNOWN_USER);

    const dsn = await dsnAbout(world, 'unknown-1@bounce.example');
    assert.equal(dsn.mailFrom, '', 'a DSN goes out with the null sender');
    assert.deepEqual(dsn.rcptTo, [world.sender.email]);
    assert.match(headerOf(dsn.raw, 'Content-Type') ?? '', /^multipart\/report; report-type=delivery-status;/);
    assert.match(headerOf(dsn.raw, 'From') ?? '', /MAILER-DAEMON@mailroom\.test/);
    const text = dsn.raw.toString();
    assert.match(text, /Content-Type: message\/delivery-status/);
    assert.match(text, /Reporting-MTA: dns; mailroom\.test/);
    assert.match(text, /Status: 5\.1\.1/);
    assert.match(text, /Remote-MTA: dns; mx\.bounce\.example/);
    assert.match(text, /Diagnostic-Code: smtp; 550 5\.1\.1 User unknown/);
    assert.match(text, /Subject: Will bounce/, 'the original headers come back');
    const report = await parseInboundReport(dsn.raw);
    assert.equal(report.kind, 'bounce');
    assert.deepEqual(report.kind === 'bounce' && report.recipients.map((r) => [r.address, r.action, r.status]), [['unknown-1@bounce.example', 'failed', '5.1.1']]);

    const suppression = await findSuppression(world.mailroom.running.store.db, world.sender.accountId, 'unknown-1@bounce.example');
    assert.ok(suppression);
    assert.match(suppression.reason, /5\.1\.1/);

    for (const address of ['unknown-1@bounce.example', 'Unknown-1@Bounce.example']) {
      await assert.rejects(world.send({ to: address }), (error: { responseCode?: number; response?: string }) => {
        assert.equal(error.responseCode, 550);
        assert.match(error.response ?? '', /^550 5\.7\.1 .*unknown-1@bounce\.example.* suppressed since \d{4}-\d\d-\d\dT.*User unknown/);
        return true;
      });
    }
  });

  test('one message to three domains: each recipient gets its own status', async () => {
    for (const domain of ['multi-a.example', 'multi-b.example', 'multi-c.example']) routeDomainToPeer(world.dns, domain);
    const id = await world.send({ to: ['ok@multi-a.example', 'busy@multi-b.example', 'unknown@multi-c.example'] });
    const message = await waitForMessage(world.mailroom.running.store, id, (m) => m.recipients.every((r) => r.attempts.length > 0 && r.status !== 'queued'));
    assert.deepEqual(statusesOf(message), {
      'ok@multi-a.example': 'delivered', 'busy@multi-b.example': 'deferred', 'unknown@multi-c.example': 'bounced',
    });
    const byAddress = new Map(message.recipients.map((r) => [r.address, r]));
    assert.match(byAddress.get('ok@multi-a.example')!.attempts[0].reply, /^250 /);
    assert.equal(byAddress.get('busy@multi-b.example')!.attempts[0].reply, TRY_LATER);
    assert.equal(byAddress.get('unknown@multi-c.example')!.attempts[0].reply, UNKNOWN_USER);

    const dsn = await dsnAbout(world, 'unknown@multi-c.example');
    assert.doesNotMatch(dsn.raw.toString(), /Final-Recipient: rfc822; (ok|busy)@/, 'only the bounced recipient is reported');
    assert.equal(world.mx.received.filter((m) => m.rcptTo.includes('ok@multi-a.example')).length, 1);
  });
});

describeEachStore('delivery expiry', (engine) => {
  let world: DeliveryWorld;
  before(async () => {
    world = await startDeliveryWorld(engine, { behaviour: scriptedByLocalPart(), env: { MAILROOM_RETRY_SCHEDULE: '1s', MAILROOM_MAX_QUEUE_TIME: '3s' } });
    routeDomainToPeer(world.dns, world.sender.domain);
  });
  after(async () => { await world?.close(); });

  test('a recipient still deferred after MAILROOM_MAX_QUEUE_TIME expires, and the sender gets a DSN', async () => {
    routeDomainToPeer(world.dns, 'expiry.example');
    const id = await world.send({ to: 'busy@expiry.example', subject: 'Will expire' });
    const message = await waitForMessage(world.mailroom.running.store, id, (m) => m.recipients[0].status === 'expired');
    const attempts = message.recipients[0].attempts;
    assert.ok(attempts.length >= 2, `retried before giving up (${attempts.length} attempts)`);
    assert.ok(attempts.every((a) => a.reply === TRY_LATER));

    const dsn = await dsnAbout(world, 'busy@expiry.example');
    assert.equal(dsn.mailFrom, '');
    const text = dsn.raw.toString();
    assert.match(text, /Action: failed/);
    assert.match(text, /Status: 4\.7\.1/, "the status is the remote's last word");
    assert.match(text, /gave up after \d+ attempts/);
    assert.equal(await findSuppression(world.mailroom.running.store.db, world.sender.accountId, 'busy@expiry.example'), null, 'expiry says nothing about the address');
  });
});
