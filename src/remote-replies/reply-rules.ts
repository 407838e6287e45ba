/**
 * What we know about other servers' replies, as data. classify.ts walks this table top to
 * bottom and the first row whose every given matcher fits decides; a reply no row matches
 * falls back to RFC 5321's basic rule (4xx deferred, 5xx bounced). A row earns its place by
 * doing one of two things the basic rule cannot: overruling the first digit (a 421 that says
 * "retrying will NOT succeed", a 552 that means "too many recipients"), or naming the reason
 * (`bounceClass`), which decides whether the address is suppressed.
 *
 * Every row carries a real-looking `example`; the test asserts each example is decided by
 * its own row, so a row shadowed by an earlier one fails the build instead of silently dying.
 *
 * Two decisions worth arguing:
 * - 5.2.2 "mailbox full" with a 5xx code bounces (class 'mailbox-full', which is soft: the
 *   address is not suppressed). RFC 3463 calls X.2.2 persistent-transient, and a 4.2.2 would
 *   be deferred; but the server chose the permanent code although it has the temporary one,
 *   and the big providers use the two deliberately (Gmail: 452 4.2.2 "over quota" for a full
 *   mailbox, 552 5.2.2 "over quota and inactive" for an abandoned one). Retrying a full
 *   mailbox for five days mostly earns a "repeatedly mailing dead mailboxes" reputation, and
 *   the sender learns now rather than at expiry. The exception is a 552 that is really
 *   "too many recipients" (RFC 5321 4.5.3.1.10 tells clients to read that one as 452).
 * - Block-list rejections (our IP or domain listed) bounce as 'blocked' rather than retrying:
 *   with one sending IP a listing rarely clears within the retry window, every retry is
 *   another hit on the list, and the operator needs the signal now; the class keeps the
 *   recipient off the suppression list.
 */
import type { BounceClass } from './verdict.ts';

export interface ReplyRule {
  id: string;
  /** Tested against the 3-digit code as a string, e.g. /^4/ or /^(421|451)$/. */
  code?: RegExp;
  /** Tested against the enhanced status code ('' when the reply has none). */
  enhanced?: RegExp;
  /** Tested against the reply text (continuation lines joined with spaces, codes stripped). */
  text?: RegExp;
  verdict: { kind: 'deferred' } | { kind: 'bounced'; bounceClass: BounceClass };
  example: string;
}

const deferred = { kind: 'deferred' } as const;
const bounced = (bounceClass: BounceClass) => ({ kind: 'bounced', bounceClass }) as const;

export const REPLY_RULES: readonly ReplyRule[] = [
  // --- Rows that overrule the first digit -------------------------------------------------
  {
    id: 'yahoo-tss09-permanent', code: /^421$/, text: /\[TSS09\]/, verdict: bounced('blocked'),
    example: '421 4.7.0 [TSS09] All messages from 192.0.2.1 will be permanently deferred; Retrying will NOT succeed. See https://postmaster.yahooinc.com/error-codes',
  },
  {
    // RFC 5321 4.5.3.1.10: RFC 821 wrongly used 552 for "too many recipients"; read it as 452.
    id: 'too-many-recipients', code: /^5/, text: /too many recipients/i, verdict: deferred,
    example: '552 5.5.3 Too many recipients',
  },
  {
    // A session-state problem (e.g. RCPT after a refused MAIL), not a verdict on the message.
    id: 'bad-sequence', code: /^503$/, verdict: deferred,
    example: '503 5.5.1 Error: need MAIL command',
  },

  // --- Provider rows: rate limiting and "try again later" ---------------------------------
  {
    id: 'gmail-rate-limit', code: /^(421|451)$/, enhanced: /^4\.7\.(0|28)$/, text: /unusual rate|rate limited/i, verdict: deferred,
    example: '421 4.7.0 [192.0.2.1] Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited. Please visit https://support.google.com/mail/?p=UnsolicitedRateLimitError to review our Bulk Email Senders Guidelines. a1si123 - gsmtp',
  },
  {
    id: 'gmail-try-again-later', code: /^(421|451)$/, enhanced: /^4\.(3|7)\.0$/, text: /try again later|temporarily rejected/i, verdict: deferred,
    example: '451 4.3.0 Mail server temporarily rejected message. a1si123 - gsmtp',
  },
  {
    id: 'gmail-receiving-too-fast', code: /^450$/, enhanced: /^4\.2\.1$/, text: /receiving mail (at a rate|too quickly)/i, verdict: deferred,
    example: '450 4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered. Please resend your message at a later time. a1si123 - gsmtp',
  },
  {
    id: 'outlook-ip-rate-limit', code: /^4/, enhanced: /^4\.7\.650$/, verdict: deferred,
    example: '451 4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://postmaster.live.com (S775) [Name=Protocol Filter Agent][AGT=PFA][MxId=11BB5A6B0000] [BN1NAM02FT012.eop-nam02.prod.protection.outlook.com]',
  },
  {
    id: 'yahoo-tss04', code: /^421$/, text: /\[TSS04\]/, verdict: deferred,
    example: '421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes',
  },
  {
    id: 'greylisting', code: /^4/, text: /gr[ae]y ?list/i, verdict: deferred,
    example: '451 4.7.1 <user@example.org>: Recipient address rejected: Greylisted, see https://postgrey.schweikert.ch/help/example.org.html',
  },
  {
    id: 'mailbox-busy', code: /^45[012]$/, enhanced: /^(4\.2\.[01])?$/, text: /busy|locked|in use/i, verdict: deferred,
    example: '450 4.2.1 Mailbox busy, try again later',
  },
  {
    id: 'mailbox-full-temporary', code: /^4/, text: /over ?quota|mailbox (is )?full|quota exceeded|insufficient storage/i, verdict: deferred,
    example: '452 4.2.2 The email account that you tried to reach is over quota. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaTemp a1si123 - gsmtp',
  },

  // --- Permanent rows that name the reason ------------------------------------------------
  {
    id: 'gmail-account-disabled', code: /^5/, enhanced: /^5\.2\.1$/, text: /account that you tried to reach is disabled/i, verdict: bounced('unknown-user'),
    example: '550 5.2.1 The email account that you tried to reach is disabled. a1si123 - gsmtp',
  },
  {
    id: 'outlook-recipient-not-found', code: /^5/, enhanced: /^5\.4\.1$/, text: /Recipient address rejected: Access denied/i, verdict: bounced('unknown-user'),
    example: '550 5.4.1 Recipient address rejected: Access denied. For more information see https://aka.ms/EXOSmtpErrors [AM4PEPF00027A5F.eurprd04.prod.outlook.com]',
  },
  {
    id: 'outlook-mailbox-unavailable', code: /^550$/, enhanced: /^5\.5\.0$/, text: /mailbox unavailable/i, verdict: bounced('unknown-user'),
    example: '550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [DM6NAM12FT012.eop-nam12.prod.protection.outlook.com]',
  },
  {
    id: 'yahoo-no-account', code: /^5/, text: /user doesn't have a \S+ account/i, verdict: bounced('unknown-user'),
    example: "554 delivery error: dd This user doesn't have a yahoo.com account (someone@yahoo.com) [0] - mta1234.mail.bf1.yahoo.com",
  },
  {
    id: 'unknown-user', code: /^5/, enhanced: /^5\.1\.(1|6|10)$/, verdict: bounced('unknown-user'),
    example: '550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient\'s email address for typos or unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser a1si123 - gsmtp',
  },
  {
    // Servers without enhanced codes (or with a vague X.0.0) still say it in words.
    id: 'unknown-user-text', code: /^5/, enhanced: /^(5\.0\.0|5\.2\.0)?$/,
    text: /user unknown|unknown user|no such (user|mailbox|recipient)|mailbox (not found|does not exist)|recipient (not found|unknown)|invalid recipient/i,
    verdict: bounced('unknown-user'),
    example: '550 <nobody@example.org>: Recipient address rejected: User unknown in virtual mailbox table',
  },
  {
    id: 'bad-destination-domain', code: /^5/, enhanced: /^5\.(1\.2|4\.4)$/, verdict: bounced('no-mx'),
    example: '554 5.4.4 SMTPSEND.DNS.NonExistentDomain; nonexistent domain',
  },
  {
    id: 'outlook-ip-blocked', code: /^5/, enhanced: /^5\.7\.(708|606|511)$/, verdict: bounced('blocked'),
    example: '550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP. For more information please go to http://go.microsoft.com/fwlink/?LinkId=526653 AS(1410) [DB5EUR03FT004.eop-EUR03.prod.protection.outlook.com]',
  },
  {
    id: 'blocklisted', code: /^5/,
    text: /block ?list|black ?list|spamhaus|dnsbl|\brbl\b|poor reputation|\[BL\d+\]/i,
    verdict: bounced('blocked'),
    example: '550 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.1',
  },
  {
    id: 'dmarc-or-unauthenticated', code: /^5/,
    text: /dmarc|unauthenticated|not pass (spf|dkim)|required authentication level|sender is unauthenticated/i,
    verdict: bounced('policy'),
    example: "550 5.7.26 Unauthenticated email from example.com is not accepted due to domain's DMARC policy. Please contact the administrator of example.com domain if this was a legitimate mail. a1si123 - gsmtp",
  },
  {
    id: 'spam-content', code: /^5/, text: /spam|unsolicited|junk|security issue|virus|malware/i, verdict: bounced('spam'),
    example: '554 5.7.1 [192.0.2.1] Our system has detected that this message is likely unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked. a1si123 - gsmtp',
  },
  {
    id: 'mailbox-full', code: /^5/, enhanced: /^5\.2\.2$/, verdict: bounced('mailbox-full'),
    example: '552 5.2.2 The email account that you tried to reach is over quota and inactive. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaPerm a1si123 - gsmtp',
  },
  {
    id: 'mailbox-full-text', code: /^5/, enhanced: /^(5\.0\.0)?$/, text: /over ?quota|mailbox (is )?full|quota ?exceeded|exceeded storage allocation/i, verdict: bounced('mailbox-full'),
    example: '552 Requested mail action aborted: exceeded storage allocation',
  },
  {
    id: 'message-too-large', code: /^5/, enhanced: /^5\.(3\.4|2\.3)$/, verdict: bounced('message-too-large'),
    example: "552 5.3.4 Your message exceeded Google's message size limits. Please visit https://support.google.com/mail/?p=MaxSizeError to view our size guidelines. a1si123 - gsmtp",
  },
  {
    id: 'relay-denied', code: /^5/, text: /relay(ing)? (access )?(denied|not permitted)|not permitted to relay/i, verdict: bounced('policy'),
    example: '554 5.7.1 <someone@example.org>: Relay access denied',
  },
  {
    // Last among the 5.7 rows: what is left of "security or policy status" is policy.
    id: 'policy', code: /^5/, enhanced: /^5\.7\.\d+$/, verdict: bounced('policy'),
    example: '550 5.7.1 Message rejected due to local policy',
  },
];
