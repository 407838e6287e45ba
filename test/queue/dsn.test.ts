import { test } from 'node:test';
import assert from 'node:assert/strict';
import PostalMime from 'postal-mime';
import { buildDsn, statusOf } from '../../src/queue/dsn.ts';
import { parseInboundReport } from '../../src/events/inbound-report.ts';

const ORIGINAL = Buffer.from([
  'From: Shop <orders@sender.test>',
  'To: nobody@rcpt.test, later@rcpt.test',
  'Subject: Your order =?utf-8?q?=E2=9C=93?=',
  'Message-ID: <order-1@sender.test>',
  '',
  'A body that must not come back.',
  '',
].join('\r\n'));

const GMAIL_REPLY = '550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n550-5.1.1 double-checking the recipient\'s email address for typos or\r\n550 5.1.1 unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser a1si123 - gsmtp';

function dsn() {
  return buildDsn({
    hostname: 'mailroom.test',
    originalSender: 'orders@sender.test',
    originalMessage: ORIGINAL,
    arrivalDate: new Date('2025-01-14T09:00:00Z'),
    now: new Date('2025-01-14T10:00:00Z'),
    queueId: 'q_123',
    recipients: [
      { address: 'nobody@rcpt.test', reply: GMAIL_REPLY, remoteMta: 'mx1.rcpt.test', lastAttemptAt: new Date('2025-01-14T09:59:00Z') },
      { address: 'later@rcpt.test', reply: 'connection refused (connect ECONNREFUSED 192.0.2.1:25)' },
    ],
  });
}

test('postal-mime reads it as a multipart/report with the three RFC 3464 parts', async () => {
  const raw = dsn();
  const lines = raw.toString('utf8').split('\r\n');
  assert.ok(lines.every((l) => Buffer.byteLength(l) <= 998), 'no line longer than RFC 5322 allows');
  const email = await PostalMime.parse(raw);
  assert.deepEqual(email.from, { name: 'Mail Delivery System', address: 'MAILER-DAEMON@mailroom.test' });
  assert.deepEqual(email.to, [{ name: '', address: 'orders@sender.test' }]);
  assert.equal(email.subject, 'Undelivered Mail Returned to Sender');
  assert.equal(email.headers.find((h) => h.key === 'auto-submitted')?.value, 'auto-replied');
  assert.match(email.headers.find((h) => h.key === 'content-type')?.value ?? '', /^multipart\/report; report-type=delivery-status;/);
  assert.match(email.text ?? '', /<nobody@rcpt\.test>: mx1\.rcpt\.test said: 550-5\.1\.1 The email account/);
  assert.deepEqual(email.attachments.map((a) => a.mimeType), ['message/delivery-status', 'text/rfc822-headers']);
  const headers = new TextDecoder().decode(email.attachments[1].content as ArrayBuffer);
  assert.match(headers, /^From: Shop <orders@sender\.test>\r?\n/);
  assert.ok(!headers.includes('must not come back'), 'headers only, not the body');
  const status = new TextDecoder().decode(email.attachments[0].content as ArrayBuffer);
  assert.match(status.replace(/\r\n/g, '\n'), /^Reporting-MTA: dns; mailroom\.test\nX-Mailroom-Queue-ID: q_123\nArrival-Date: Tue, 14 Jan 2025 09:00:00 \+0000\n\nFinal-Recipient: rfc822; nobody@rcpt\.test\nAction: failed\nStatus: 5\.1\.1\nRemote-MTA: dns; mx1\.rcpt\.test\nDiagnostic-Code: smtp; 550-5\.1\.1/);
  assert.match(status, /Last-Attempt-Date: Tue, 14 Jan 2025 09:59:00 \+0000/);
  assert.match(status, /Diagnostic-Code: X-Mailroom; connection refused/);
});

test('our own bounce parser reads back every recipient', async () => {
  const report = await parseInboundReport(dsn());
  assert.equal(report.kind, 'bounce');
  if (report.kind !== 'bounce') return;
  assert.equal(report.reportingMta, 'mailroom.test');
  assert.equal(report.recipients.length, 2);
  const [nobody, later] = report.recipients;
  assert.equal(nobody.address, 'nobody@rcpt.test');
  assert.equal(nobody.action, 'failed');
  assert.equal(nobody.status, '5.1.1');
  assert.equal(nobody.remoteMta, 'mx1.rcpt.test');
  assert.equal(nobody.diagnostic, GMAIL_REPLY.replace(/\r\n/g, ' '));
  assert.equal(later.address, 'later@rcpt.test');
  assert.equal(later.status, '5.0.0');
  assert.equal(later.diagnostic, 'connection refused (connect ECONNREFUSED 192.0.2.1:25)');
});

test('status comes from the reply where it says one', () => {
  assert.equal(statusOf('550 5.1.1 no such user'), '5.1.1');
  assert.equal(statusOf('451 4.7.1 try later'), '4.7.1');
  assert.equal(statusOf('554 no enhanced code'), '5.0.0');
  assert.equal(statusOf('421 4.7.0 busy'), '4.7.0');
  assert.equal(statusOf('DNS lookup failed'), '5.0.0');
  assert.equal(statusOf('timed out', 'delayed'), '4.0.0');
});

test('a delay warning says so; nobody bounces a bounce', () => {
  const warning = buildDsn({
    hostname: 'mailroom.test', originalSender: 'a@sender.test', originalMessage: ORIGINAL, arrivalDate: new Date(),
    recipients: [{ address: 'x@rcpt.test', reply: '451 4.7.1 Greylisted', action: 'delayed' }],
  }).toString();
  assert.match(warning, /Subject: Delayed Mail \(still being retried\)/);
  assert.match(warning, /Action: delayed\r\nStatus: 4\.7\.1/);
  assert.throws(() => buildDsn({ hostname: 'h', originalSender: '', originalMessage: ORIGINAL, arrivalDate: new Date(), recipients: [{ address: 'x@y', reply: '550 no' }] }), RangeError);
});
