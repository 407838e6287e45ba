import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXPLANATIONS, explain, explanationRow } from '../../src/remote-replies/explanations.ts';
import { classifyRawReply, parseReply } from '../../src/remote-replies/classify.ts';
import { REPLY_RULES } from '../../src/remote-replies/reply-rules.ts';

// Each row's real-world examples are explained by that row, and a real SMTP reply among them is
// classified the way the example says (so examples cannot drift from what classify.ts decides).
for (const row of EXPLANATIONS) {
  for (const example of row.examples) {
    test(`${row.id} explains: ${example.reply.slice(0, 70)}`, () => {
      if (parseReply(example.reply).code > 0 && example.rule !== 'relay-auth-failed') {
        const verdict = classifyRawReply(example.reply);
        assert.equal(verdict.rule, example.rule, 'the example is classified by the rule it names');
        assert.equal(verdict.kind, example.kind);
      }
      assert.equal(explanationRow(example.kind, example.rule, example.reply).id, row.id);
    });
  }
}

test('every classification row has an explanation of its own, not a catch-all', () => {
  for (const rule of REPLY_RULES) {
    const verdict = classifyRawReply(rule.example);
    const row = explanationRow(verdict.kind, verdict.rule, rule.example);
    assert.ok(!['try-again-later', 'refused'].includes(row.id), `${rule.id} falls through to ${row.id}`);
  }
});

// The distinctions users asked for, from real replies and our own failure descriptions.
const CASES: Array<[string, 'deferred' | 'bounced', string | null, string, RegExp]> = [
  ['no such domain', 'bounced', 'no-route', 'DNS MX lookup for exmaple.com: the domain does not exist', /domain does not exist/],
  ['no server answered', 'deferred', 'timeout', 'timed out (connecting to 203.0.113.5:25 took longer than 15000 ms)', /No mail server .* answered/],
  ['no mailbox', 'bounced', 'unknown-user', '550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local recipient table', /mailbox does not exist/],
  ['rate-limited', 'deferred', 'gmail-rate-limit', '421 4.7.28 Gmail has detected an unusual rate of unsolicited mail from your DKIM domain and has rate limited it. - gsmtp', /rate-limiting you/],
  ['auth failed', 'bounced', 'dmarc-or-unauthenticated', "550 5.7.26 This mail is unauthenticated, which poses a security risk to the sender and Gmail users, and has been blocked. The sender must authenticate with at least one of SPF or DKIM. - gsmtp", /authentication .* failed/],
  ['MTA-STS', 'deferred', 'mta-sts-tls', 'MTA-STS policy of example.org (enforce, id 1) requires TLS with a valid certificate: mx.example.org refused STARTTLS (500 5.5.1 Unrecognized command); not sent in clear', /MTA-STS/],
  ['an old attempt without a rule still reads its reply', 'deferred', null, '451 4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to IP reputation.', /rate-limiting you/],
];
for (const [name, kind, rule, reply, expected] of CASES) {
  test(`plain words: ${name}`, () => {
    const explanation = explain({ status: kind, rule, reply });
    assert.ok(explanation);
    assert.match(explanation.summary, expected);
  });
}

test('statuses: delivered and queued need no words; expired names the last problem; suppressed and complained say why', () => {
  assert.equal(explain({ status: 'delivered', rule: null, reply: '250 2.0.0 OK' }), null);
  assert.equal(explain({ status: 'queued', rule: null, reply: null }), null);
  const expired = explain({ status: 'expired', rule: 'connection-refused', reply: 'connection refused (connect ECONNREFUSED 192.0.2.10:25)' });
  assert.match(expired?.summary ?? '', /gave up.*No mail server/s);
  assert.match(expired?.action ?? '', /Send it again/);
  assert.match(explain({ status: 'suppressed', rule: null, reply: null })?.summary ?? '', /suppression list/);
  assert.match(explain({ status: 'complained', rule: null, reply: null })?.summary ?? '', /spam/);
});
