import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInboundReport } from '../../src/events/inbound-report.ts';

const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n'));

// Shaped like what Gmail sends when a gmail.com recipient does not exist.
const GMAIL_DSN = crlf([
  'Delivered-To: b+dlv42.k3j5m2qa@bounces.sender.test',
  'Return-Path: <>',
  'Received: from mail-sor-f69.google.com (mail-sor-f69.google.com [209.85.220.69]) by mx.bounces.sender.test with ESMTPS id 1;',
  ' Tue, 14 Jan 2025 10:00:05 +0000',
  'From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>',
  'To: b+dlv42.k3j5m2qa@bounces.sender.test',
  'Auto-Submitted: auto-replied',
  'Subject: Delivery Status Notification (Failure)',
  'References: <order-1234@sender.test>',
  'In-Reply-To: <order-1234@sender.test>',
  'X-Failed-Recipients: nosuchuser@gmail.com',
  'Message-ID: <67863e45.050a0220.1b2c3d.0001.GMR@mx.google.com>',
  'Date: Tue, 14 Jan 2025 02:00:05 -0800 (PST)',
  'MIME-Version: 1.0',
  'Content-Type: multipart/report; boundary="000000000000a1b2c3d4e5f6"; report-type=delivery-status',
  '',
  '--000000000000a1b2c3d4e5f6',
  'Content-Type: multipart/related; boundary="000000000000a1b2c3d4e5f7"',
  '',
  '--000000000000a1b2c3d4e5f7',
  'Content-Type: text/html; charset="UTF-8"',
  '',
  '<html><body><h2>Address not found</h2><p>Your message wasn\'t delivered to <b>nosuchuser@gmail.com</b> because the address couldn\'t be found.</p></body></html>',
  '',
  '--000000000000a1b2c3d4e5f7--',
  '',
  '--000000000000a1b2c3d4e5f6',
  'Content-Type: message/delivery-status',
  '',
  'Reporting-MTA: dns; googlemail.com',
  'Received-From-MTA: dns; b+dlv42.k3j5m2qa@bounces.sender.test',
  'Arrival-Date: Tue, 14 Jan 2025 02:00:04 -0800 (PST)',
  'X-Original-Message-ID: <order-1234@sender.test>',
  '',
  'Final-Recipient: rfc822; nosuchuser@gmail.com',
  'Action: failed',
  'Status: 5.1.1',
  'Remote-MTA: dns; gmail-smtp-in.l.google.com. (2a00:1450:400c:c0b::1b, the server for the domain gmail.com.)',
  'Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try',
  ' 550-5.1.1 double-checking the recipient\'s email address for typos or',
  ' 550 5.1.1 unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser a1si123 - gsmtp',
  'Last-Attempt-Date: Tue, 14 Jan 2025 02:00:05 -0800 (PST)',
  '',
  '--000000000000a1b2c3d4e5f6',
  'Content-Type: message/rfc822',
  '',
  'From: Shop <orders@sender.test>',
  'To: nosuchuser@gmail.com',
  'Subject: Your order',
  'Message-ID: <order-1234@sender.test>',
  '',
  'Thanks for your order.',
  '',
  '--000000000000a1b2c3d4e5f6--',
  '',
]);

// Shaped like an Exchange Online NDR: two recipients, one failed, one only delayed.
const MICROSOFT_DSN = crlf([
  'From: postmaster@contoso.onmicrosoft.com',
  'To: <b+dlv77.abcd2345@bounces.sender.test>',
  'Date: Tue, 14 Jan 2025 10:00:00 +0000',
  'Subject: Undeliverable: Your order',
  'Content-Type: multipart/report; report-type=delivery-status;',
  '\tboundary="d3a4f5b6-c7d8-4e9f-a0b1-c2d3e4f5a6b7"',
  'Content-Language: en-US',
  'Message-ID: <0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9@DM6PR11MB1234.namprd11.prod.outlook.com>',
  'In-Reply-To: <order-77@sender.test>',
  'Auto-Submitted: auto-replied',
  'MIME-Version: 1.0',
  '',
  '--d3a4f5b6-c7d8-4e9f-a0b1-c2d3e4f5a6b7',
  'Content-Type: multipart/alternative; differences=Content-Type;',
  '\tboundary="e4b5c6d7-e8f9-4a0b-b1c2-d3e4f5a6b7c8"',
  '',
  '--e4b5c6d7-e8f9-4a0b-b1c2-d3e4f5a6b7c8',
  'Content-Type: text/plain; charset="us-ascii"',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Your message to nobody@contoso.com couldn\'t be delivered.',
  '',
  '--e4b5c6d7-e8f9-4a0b-b1c2-d3e4f5a6b7c8--',
  '',
  '--d3a4f5b6-c7d8-4e9f-a0b1-c2d3e4f5a6b7',
  'Content-Type: message/delivery-status',
  '',
  'Reporting-MTA: dns;DM6PR11MB1234.namprd11.prod.outlook.com',
  'Received-From-MTA: dns;mx.sender.test',
  'Arrival-Date: Tue, 14 Jan 2025 09:59:58 +0000',
  '',
  'Original-Recipient: rfc822;nobody@contoso.com',
  'Final-Recipient: rfc822;nobody@contoso.com',
  'Action: failed',
  'Status: 5.1.10',
  'Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup',
  '',
  'Final-Recipient: rfc822;busy@contoso.com',
  'Action: delayed',
  'Status: 4.4.7',
  'Remote-MTA: dns;mailbox.contoso.com',
  '',
  '--d3a4f5b6-c7d8-4e9f-a0b1-c2d3e4f5a6b7',
  'Content-Type: text/rfc822-headers',
  '',
  'From: Shop <orders@sender.test>',
  'To: nobody@contoso.com, busy@contoso.com',
  'Subject: Your order',
  '',
  '--d3a4f5b6-c7d8-4e9f-a0b1-c2d3e4f5a6b7--',
  '',
]);

// An ARF report (RFC 5965) as a feedback loop sends it, without Original-Rcpt-To.
const ARF = crlf([
  'From: <staff@hotmail.com>',
  'To: <fbl@sender.test>',
  'Date: Tue, 14 Jan 2025 12:00:00 +0000',
  'Subject: complaint about message from 192.0.2.10',
  'MIME-Version: 1.0',
  'Content-Type: multipart/report; report-type=feedback-report;',
  '  boundary="part1_13d.2e68ed54_boundary"',
  '',
  '--part1_13d.2e68ed54_boundary',
  'Content-Type: text/plain; charset="US-ASCII"',
  'Content-Transfer-Encoding: 7bit',
  '',
  'This is an email abuse report for an email message received from IP 192.0.2.10 on Tue, 14 Jan 2025 11:00:00 +0000.',
  '',
  '--part1_13d.2e68ed54_boundary',
  'Content-Type: message/feedback-report',
  '',
  'Feedback-Type: abuse',
  'User-Agent: SomeGenerator/1.0',
  'Version: 1',
  'Original-Mail-From: <b+dlv99.q2w3e4r5@bounces.sender.test>',
  'Arrival-Date: Tue, 14 Jan 2025 11:00:00 +0000',
  'Source-IP: 192.0.2.10',
  'Reported-Domain: sender.test',
  '',
  '--part1_13d.2e68ed54_boundary',
  'Content-Type: message/rfc822',
  'Content-Disposition: inline',
  '',
  'From: Shop <news@sender.test>',
  'To: complainer@hotmail.com',
  'Subject: Weekly offers',
  'Message-ID: <news-9@sender.test>',
  '',
  'Buy now.',
  '',
  '--part1_13d.2e68ed54_boundary--',
  '',
]);

test('a Gmail DSN: the failed recipient, its status and the remote reply, unfolded', async () => {
  const report = await parseInboundReport(GMAIL_DSN);
  assert.equal(report.kind, 'bounce');
  if (report.kind !== 'bounce') return;
  assert.equal(report.reportingMta, 'googlemail.com');
  assert.equal(report.recipients.length, 1);
  const [r] = report.recipients;
  assert.equal(r.address, 'nosuchuser@gmail.com');
  assert.equal(r.action, 'failed');
  assert.equal(r.status, '5.1.1');
  assert.match(r.diagnostic ?? '', /^550-5\.1\.1 The email account that you tried to reach does not exist\. Please try 550-5\.1\.1 double-checking/);
  assert.match(r.remoteMta ?? '', /^gmail-smtp-in\.l\.google\.com/);
});

test('a Microsoft DSN with one failed and one delayed recipient', async () => {
  const report = await parseInboundReport(MICROSOFT_DSN);
  assert.equal(report.kind, 'bounce');
  if (report.kind !== 'bounce') return;
  assert.deepEqual(report.recipients, [
    { address: 'nobody@contoso.com', action: 'failed', status: '5.1.10', diagnostic: '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup' },
    { address: 'busy@contoso.com', action: 'delayed', status: '4.4.7', remoteMta: 'mailbox.contoso.com' },
  ]);
});

test('an ARF report is a complaint; the recipient comes from the returned message when not stated', async () => {
  const report = await parseInboundReport(ARF);
  assert.deepEqual(report, {
    kind: 'complaint',
    feedbackType: 'abuse',
    originalRecipient: 'complainer@hotmail.com',
    originalMailFrom: 'b+dlv99.q2w3e4r5@bounces.sender.test',
    userAgent: 'SomeGenerator/1.0',
  });
});

test('Original-Rcpt-To wins over the returned message', async () => {
  const withRcpt = Buffer.from(ARF.toString().replace('Version: 1\r\n', 'Version: 1\r\nOriginal-Rcpt-To: <stated@hotmail.com>\r\n'));
  const report = await parseInboundReport(withRcpt);
  assert.equal(report.kind === 'complaint' && report.originalRecipient, 'stated@hotmail.com');
});

test('anything else is unknown: an ordinary reply, an out-of-office, garbage', async () => {
  const plain = crlf(['From: bob@example.org', 'To: b+dlv1.aaaaaaaa@bounces.sender.test', 'Subject: Re: hello', '', 'Thanks!', '']);
  const ooo = crlf(['From: bob@example.org', 'Subject: Out of office', 'Auto-Submitted: auto-replied', 'Content-Type: text/plain', '', 'Back Monday.', '']);
  for (const message of [plain, ooo, Buffer.from('\x00\x01 not mail at all')]) {
    assert.deepEqual(await parseInboundReport(message), { kind: 'unknown' });
  }
});
