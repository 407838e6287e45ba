/**
 * The confirmation code and link found in caught mail, from the table in
 * events/confirmation-codes.ts: Gmail's "Send mail as" confirmation (decoded
 * from quoted-printable MIME by postal-mime), the generic rows, and what must
 * not be taken for a code or a link. No store: parsing only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractConfirmation, PATTERNS } from '../../src/events/confirmation-codes.ts';
import { readCaughtMail } from '../../src/events/caught-mail.ts';
import { GMAIL_CANCEL_LINK, GMAIL_CODE, GMAIL_LINK, gmailConfirmation } from '../support/gmail-confirmation.ts';

const CRLF = '\r\n';

test('the table has the Gmail row first, then the generic ones', () => {
  assert.deepEqual(PATTERNS.map((p) => p.name), ['gmail-send-mail-as', 'generic-code', 'generic-link']);
});

test("Gmail's confirmation: the code and the vf- link, never the cancel link, through quoted-printable", async () => {
  const raw = Buffer.from(gmailConfirmation('you@example.com'));
  assert.ok(!raw.toString().includes(GMAIL_LINK), 'the fixture really splits the link (soft line breaks)');
  const read = await readCaughtMail(raw, 'forwarding-noreply@google.com');
  assert.equal(read.code, GMAIL_CODE);
  assert.equal(read.link, GMAIL_LINK);
  assert.notEqual(read.link, GMAIL_CANCEL_LINK);
  assert.equal(read.headerFrom, 'forwarding-noreply@google.com');
  assert.equal(read.subject, `(#${GMAIL_CODE}) Gmail Confirmation - Send Mail as you@example.com`);
  assert.match(read.text, /You have requested to add you@example\.com to your Gmail account\./);
});

test('generic rows: "code: 123456", "code is …", and the first https link that says verify or confirm', () => {
  const cases: Array<[string, string | null, string | null]> = [
    ['Your verification code: 482913\nIt expires in 10 minutes.', '482913', null],
    ['Your code is 839201.', '839201', null],
    ['Security code: AB12-CD34 (case does not matter)', 'AB12-CD34', null],
    ['Enter the code below.\nCode: 771204', '771204', null],
    ['See https://example.org/help first, then https://app.example.org/account/verify?token=abc123. Thanks',
      null, 'https://app.example.org/account/verify?token=abc123'],
    ['Click (https://id.example.net/confirm-email/9f8e7d) to confirm.', null, 'https://id.example.net/confirm-email/9f8e7d'],
  ];
  for (const [text, code, link] of cases) {
    assert.deepEqual(extractConfirmation(text, ['noreply@service.example']), { code, link }, text);
  }
});

test('nothing is taken for a code or a link that is not one', () => {
  const cases = [
    'Use the code below to sign in.',                                  // "code below": no digit
    'Your discount code: SUMMER',                                      // no digit
    'Verify here: http://app.example.org/verify?token=1',              // not https
    'Read https://blog.example.org/how-we-build for more.',            // https, but says nothing about verifying
    `Confirmation code: ${GMAIL_CODE} for a vf- link from elsewhere: https://mail-settings.google.com/mail/vf-x`,
  ];
  assert.deepEqual(extractConfirmation(cases[0], ['a@b.example']), { code: null, link: null });
  assert.deepEqual(extractConfirmation(cases[1], ['a@b.example']), { code: null, link: null });
  assert.deepEqual(extractConfirmation(cases[2], ['a@b.example']), { code: null, link: null });
  assert.deepEqual(extractConfirmation(cases[3], ['a@b.example']), { code: null, link: null });
  // The Gmail link row is for Google's mail only: from anyone else such a link is not offered.
  assert.deepEqual(extractConfirmation(cases[4], ['phish@google.com.evil.example']), { code: GMAIL_CODE, link: null });
});

test('an HTML-only message: the text without tags, links from its hrefs', async () => {
  const raw = [
    'From: Service <noreply@service.example>', 'To: you@example.com', 'Subject: Confirm your address', 'MIME-Version: 1.0',
    'Content-Type: text/html; charset=utf-8', '',
    '<html><body><p>Your confirmation code is <b>604218</b>.</p><p><a href="https://service.example/confirm?t=a1&amp;u=2">Confirm</a></p></body></html>', '',
  ].join(CRLF);
  const read = await readCaughtMail(Buffer.from(raw), 'bounce@service.example');
  assert.equal(read.code, '604218');
  assert.equal(read.link, 'https://service.example/confirm?t=a1&u=2');
  assert.match(read.text, /Your confirmation code is 604218\./);
  assert.doesNotMatch(read.text, /<b>/);
});
