import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyRawReply, classifyReply, classifySocketError, parseReply } from '../../src/remote-replies/classify.ts';
import { REPLY_RULES } from '../../src/remote-replies/reply-rules.ts';
import { isHardBounce } from '../../src/remote-replies/verdict.ts';

// Each rule's own example must be decided by that rule: a row shadowed by an earlier one fails here.
for (const rule of REPLY_RULES) {
  test(`rule ${rule.id} decides its own example`, () => {
    assert.equal(classifyRawReply(rule.example).rule, rule.id);
  });
}

// reply → [kind, bounceClass or '', rule]: one row per rule plus the cases users asked about.
const REPLIES: Array<[string, 'deferred' | 'bounced', string, string]> = [
  ['421-4.7.0 [192.0.2.1] Our system has detected an unusual rate of\r\n421-4.7.0 unsolicited mail originating from your IP address. To protect our\r\n421 4.7.0 users from spam, mail sent from your IP address has been temporarily rate limited. - gsmtp', 'deferred', '', 'gmail-rate-limit'],
  ['421 4.7.28 Gmail has detected an unusual rate of unsolicited mail from your domain and has rate limited it. - gsmtp', 'deferred', '', 'gmail-rate-limit'],
  ['421 4.7.0 Try again later, closing connection. (EHLO) a1si123 - gsmtp', 'deferred', '', 'gmail-try-again-later'],
  ['451 4.3.0 Mail server temporarily rejected message. - gsmtp', 'deferred', '', 'gmail-try-again-later'],
  ['450 4.2.1 The user you are trying to contact is receiving mail too quickly. - gsmtp', 'deferred', '', 'gmail-receiving-too-fast'],
  ['452 4.2.2 The email account that you tried to reach is over quota. - gsmtp', 'deferred', '', 'mailbox-full-temporary'],
  ['450 4.2.0 Mailbox temporarily locked', 'deferred', '', 'mailbox-busy'],
  ['451 4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to IP reputation.', 'deferred', '', 'outlook-ip-rate-limit'],
  ['421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints', 'deferred', '', 'yahoo-tss04'],
  ['421 4.7.0 [TSS09] All messages from 192.0.2.1 will be permanently deferred; Retrying will NOT succeed.', 'bounced', 'blocked', 'yahoo-tss09-permanent'],
  ['450 4.7.1 Greylisting in action, please come back later', 'deferred', '', 'greylisting'],
  ['552 5.5.3 Too many recipients', 'deferred', '', 'too-many-recipients'],
  ['503 5.5.1 Error: need MAIL command', 'deferred', '', 'bad-sequence'],
  ['550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n550-5.1.1 double-checking the recipient\'s email address for typos or\r\n550 5.1.1 unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser - gsmtp', 'bounced', 'unknown-user', 'unknown-user'],
  ['550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup', 'bounced', 'unknown-user', 'unknown-user'],
  ['550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [x.prod.protection.outlook.com]', 'bounced', 'unknown-user', 'outlook-recipient-not-found'],
  ['550 5.5.0 Requested action not taken: mailbox unavailable', 'bounced', 'unknown-user', 'outlook-mailbox-unavailable'],
  ['550 5.2.1 The email account that you tried to reach is disabled. - gsmtp', 'bounced', 'unknown-user', 'gmail-account-disabled'],
  ["554 delivery error: dd This user doesn't have a yahoo.com account (x@yahoo.com) [0]", 'bounced', 'unknown-user', 'yahoo-no-account'],
  ['550 No such user here', 'bounced', 'unknown-user', 'unknown-user-text'],
  ['550 5.1.2 Bad destination system address', 'bounced', 'no-mx', 'bad-destination-domain'],
  ['552 5.2.2 The email account that you tried to reach is over quota and inactive. - gsmtp', 'bounced', 'mailbox-full', 'mailbox-full'],
  ['552 Requested mail action aborted: exceeded storage allocation', 'bounced', 'mailbox-full', 'mailbox-full-text'],
  ['552 5.3.4 Message size exceeds fixed maximum message size', 'bounced', 'message-too-large', 'message-too-large'],
  ["550 5.7.26 Unauthenticated email from example.com is not accepted due to domain's DMARC policy.", 'bounced', 'policy', 'dmarc-or-unauthenticated'],
  ['550 5.7.509 Access denied, sending domain [example.com] does not pass DMARC verification and has a DMARC policy of reject.', 'bounced', 'policy', 'dmarc-or-unauthenticated'],
  ['550 5.7.1 Message rejected due to local policy', 'bounced', 'policy', 'policy'],
  ['554 5.7.1 Message rejected as spam by Content Filtering.', 'bounced', 'spam', 'spam-content'],
  ['552 5.7.0 This message was blocked because its content presents a potential security issue.', 'bounced', 'spam', 'spam-content'],
  ['550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.', 'bounced', 'blocked', 'outlook-ip-blocked'],
  ['550 5.7.606 Access denied, banned sending IP [192.0.2.1].', 'bounced', 'blocked', 'outlook-ip-blocked'],
  ['550 5.7.511 Access denied, please forward this message to delist@messaging.microsoft.com', 'bounced', 'blocked', 'outlook-ip-blocked'],
  ['554 Service unavailable; Client host [192.0.2.1] blocked using b.barracudacentral.org; RBL', 'bounced', 'blocked', 'blocklisted'],
  ["553 5.7.1 [BL21] Connections will not be accepted from 192.0.2.1, because the ip is in Spamhaus's list", 'bounced', 'blocked', 'blocklisted'],
  ['554 5.7.1 <x@example.org>: Relay access denied', 'bounced', 'policy', 'relay-denied'],
  ['554 5.4.4 SMTPSEND.DNS.NonExistentDomain; nonexistent domain', 'bounced', 'no-mx', 'bad-destination-domain'],
  // No rule: the basic rule decides.
  ['451 4.3.2 System not accepting network messages', 'deferred', '', 'basic-4xx'],
  ['421 Service not available, closing transmission channel', 'deferred', '', 'basic-4xx'],
  ['554 Transaction failed', 'bounced', 'other', 'basic-5xx'],
  ['250 OK', 'deferred', '', 'unexpected-reply'],
];

for (const [reply, kind, bounceClass, rule] of REPLIES) {
  test(`${kind} ${bounceClass} by ${rule}: ${reply.slice(0, 60)}`, () => {
    const verdict = classifyRawReply(reply);
    assert.equal(verdict.rule, rule);
    assert.equal(verdict.kind, kind);
    if (verdict.kind === 'bounced') assert.equal(verdict.bounceClass, bounceClass);
  });
}

test('parseReply joins continuation lines and strips repeated codes', () => {
  assert.deepEqual(parseReply('550-5.1.1 first\r\n550 5.1.1 second'), { code: 550, enhanced: '5.1.1', text: 'first second' });
  assert.deepEqual(parseReply('554 no enhanced code'), { code: 554, enhanced: undefined, text: 'no enhanced code' });
});

test('classifyReply takes the enhanced code from the text when not given separately', () => {
  assert.equal(classifyReply(550, undefined, '5.1.1 <x@example.org>: unknown').rule, 'unknown-user');
  assert.equal(classifyReply(550, '5.1.1', 'whatever').rule, 'unknown-user');
});

test('hard bounces are exactly the ones that prove the address dead', () => {
  assert.equal(isHardBounce('unknown-user'), true);
  assert.equal(isHardBounce('no-mx'), true);
  for (const soft of ['mailbox-full', 'policy', 'spam', 'blocked', 'message-too-large', 'other'] as const) {
    assert.equal(isHardBounce(soft), false, soft);
  }
});

function errorWith(message: string, props: Record<string, unknown>): Error {
  return Object.assign(new Error(message), props);
}

// error → [kind, bounceClass or '', rule, reply must include]
const ERRORS: Array<[unknown, 'deferred' | 'bounced', string, string, string]> = [
  [errorWith('connect ECONNREFUSED 192.0.2.1:25', { code: 'ESOCKET', originalCode: 'ECONNREFUSED' }), 'deferred', '', 'connection-refused', 'connection refused'],
  [errorWith('connect ECONNREFUSED 192.0.2.1:25', { code: 'ECONNREFUSED' }), 'deferred', '', 'connection-refused', 'ECONNREFUSED'],
  [errorWith('Timeout', { code: 'ETIMEDOUT', timeoutType: 'SOCKET_TIMEOUT' }), 'deferred', '', 'timeout', 'timed out'],
  [errorWith('Error initiating TLS - wrong version number', { code: 'ETLS' }), 'deferred', '', 'tls-failed', 'TLS'],
  [errorWith('Connection closed unexpectedly', { code: 'ECONNECTION' }), 'deferred', '', 'connection-lost', 'closed'],
  [errorWith('read ECONNRESET', { code: 'ESOCKET', originalCode: 'ECONNRESET' }), 'deferred', '', 'connection-lost', 'reset'],
  [errorWith('connect EHOSTUNREACH', { code: 'EHOSTUNREACH' }), 'deferred', '', 'unreachable', 'unreachable'],
  [errorWith('queryMx ESERVFAIL example.org', { code: 'ESERVFAIL', temporary: true }), 'deferred', '', 'dns-temporary', 'DNS'],
  [errorWith('queryMx ENOTFOUND example.invalid', { code: 'ENOTFOUND', temporary: false }), 'bounced', 'no-mx', 'dns-nxdomain', 'ENOTFOUND'],
  [errorWith('Invalid greeting', { code: 'EPROTOCOL', response: '421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred', command: 'CONN' }), 'deferred', '', 'yahoo-tss04', '[TSS04]'],
  [errorWith('Invalid greeting', { code: 'EPROTOCOL', response: '554 5.7.1 Client host [192.0.2.1] blocked using zen.spamhaus.org', command: 'CONN' }), 'bounced', 'blocked', 'blocklisted', 'spamhaus'],
  [errorWith('Invalid login', { code: 'EAUTH', response: '535 5.7.8 Authentication credentials invalid', command: 'AUTH PLAIN' }), 'deferred', '', 'relay-auth-failed', '535'],
  [errorWith('something odd', { code: 'EWHATEVER' }), 'deferred', '', 'network-error', 'something odd'],
  ['not even an error', 'deferred', '', 'network-error', 'not even an error'],
];

for (const [err, kind, bounceClass, rule, replyIncludes] of ERRORS) {
  test(`socket error → ${kind} by ${rule}`, () => {
    const verdict = classifySocketError(err);
    assert.equal(verdict.rule, rule);
    assert.equal(verdict.kind, kind);
    if (verdict.kind === 'bounced') assert.equal(verdict.bounceClass, bounceClass);
    assert.ok(verdict.reply.includes(replyIncludes), verdict.reply);
  });
}
