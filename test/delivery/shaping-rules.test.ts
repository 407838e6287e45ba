import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SHAPING_RULES, siteSignalOf } from '../../src/delivery/shaping-rules.ts';

test('every row decides its own example (no row is shadowed by an earlier one)', () => {
  for (const rule of SHAPING_RULES) assert.equal(siteSignalOf(rule.example)?.rule, rule.id, rule.example);
});

test('every suspension says for how long', () => {
  for (const rule of SHAPING_RULES.filter((r) => r.signal === 'suspend')) assert.ok((rule.suspendMs ?? 0) > 0, rule.id);
});

// Replies seen from real providers, each with what it must say about the site.
const REAL_REPLIES: Array<[string, 'throttle' | 'suspend' | null]> = [
  ['421-4.7.28 [192.0.2.1      15] Our system has detected an unusual rate of\r\n421-4.7.28 unsolicited mail originating from your IP address. To protect our\r\n421 4.7.28 users from spam, mail sent from your IP address has been temporarily rate limited. a1si - gsmtp', 'throttle'],
  ['421 4.7.0 [192.0.2.1] Our system has detected an unusual rate of unsolicited mail originating from your IP address. a1si123 - gsmtp', 'throttle'],
  ['421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints', 'throttle'],
  ['451 4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to IP reputation.', 'throttle'],
  ['421 4.7.0 [TS01] Messages from 192.0.2.1 temporarily deferred due to user complaints - 4.16.55.1', 'suspend'],
  ['421 4.7.0 [TSS09] All messages from 192.0.2.1 will be permanently deferred; Retrying will NOT succeed.', 'suspend'],
  ['421 Too many concurrent SMTP connections from this IP address; please try again later.', 'throttle'],
  ['452 4.7.1 Rate limit exceeded, please slow down', 'throttle'],
  ['421 4.7.0 Try again later', 'throttle'],
  ['421 mx.example.net Service not available, closing transmission channel', 'throttle'],
  ['421 4.3.2 Service shutting down', null],
  ['421 4.4.2 mx.example.net Error: timeout exceeded', null],
  // Not about the site:
  ['451 4.7.1 Try again later', null],
  ['451 4.7.1 <user@example.org>: Recipient address rejected: Greylisted, see https://postgrey.schweikert.ch/help/example.org.html', null],
  ['450 4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered.', null],
  ['452 4.2.2 The email account that you tried to reach is over quota.', null],
  ['550 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org', null],
  ['550 5.7.28 Our system has detected an unusual rate of unsolicited mail', null],
  ['250 2.0.0 OK', null],
];

test('real replies: throttling and blocks are told apart from ordinary deferrals', () => {
  for (const [reply, expected] of REAL_REPLIES) assert.equal(siteSignalOf(reply)?.signal ?? null, expected, reply);
});
