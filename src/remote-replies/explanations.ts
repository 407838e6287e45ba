/**
 * Every deferral and bounce in plain words, as data: what happened, said so that someone who
 * has never read an SMTP reply understands it, and what to do about it when there is anything
 * to do. The raw reply is always shown beside it; this only says what it means.
 *
 * A row applies when every matcher it gives fits: `rules` (the classification that decided the
 * outcome — a reply-rules.ts row or one of classify.ts's and send.ts's own rules), `code`,
 * `enhanced` and `text` (the reply, as in reply-rules.ts), `kind`. The first row that fits
 * wins, so specific rows come before the catch-alls at the bottom. Rows that match the reply's
 * words as well as rule ids keep working for classification rules added later (a new provider
 * row in reply-rules.ts still reads "rate-limiting you" when its reply says so).
 *
 * Every row carries real-world `examples`; the test checks that each is explained by its own row.
 */
import { classifyRawReply, parseReply } from './classify.ts';

export interface Explanation {
  /** What happened, for someone who is not a mail expert. */
  summary: string;
  /** What to do, when there is something to do. */
  action?: string;
}

export interface ExplanationRow extends Explanation {
  id: string;
  rules?: readonly string[];
  code?: RegExp;
  enhanced?: RegExp;
  text?: RegExp;
  kind?: 'deferred' | 'bounced';
  /** Real replies (or our own failure descriptions, with the rule that produced them). */
  examples: ReadonlyArray<{ rule: string; kind: 'deferred' | 'bounced'; reply: string }>;
}

/** What the explanation is asked about: an attempt's outcome, or a recipient's status. */
export interface OutcomeFacts {
  status: string;
  /** The classification rule of the last attempt (null when unknown, e.g. mail recorded before rules were kept). */
  rule: string | null;
  reply: string | null;
}

const RETRYING = 'Nothing to do for now: Mailroom tries again on its own.';

export const EXPLANATIONS: readonly ExplanationRow[] = [
  // --- MTA-STS: the recipient's domain demands verified TLS -----------------------------------
  {
    id: 'mta-sts-mx', rules: ['mta-sts-mx-mismatch'],
    summary: "The recipient's domain publishes a security policy (MTA-STS) that does not list the mail server its DNS points to, so the message was held back instead of going to a server the policy does not trust.",
    action: `${RETRYING} If it lasts, the recipient's mail administrator has to make their MTA-STS policy and MX records agree.`,
    examples: [{ rule: 'mta-sts-mx-mismatch', kind: 'deferred', reply: 'MTA-STS policy of example.org (enforce, id 20240101): none of the MX hosts (mx1.example.net) is named by the policy (mx: *.mail.example.org); not delivered' }],
  },
  {
    id: 'mta-sts-tls', rules: ['mta-sts-tls'],
    summary: "The recipient's domain requires encrypted delivery with a valid certificate (MTA-STS), and its mail server could not provide that, so the message was held back rather than sent unencrypted.",
    action: `${RETRYING} If it lasts, the recipient's mail administrator has to fix STARTTLS or the certificate of their mail server.`,
    examples: [{ rule: 'mta-sts-tls', kind: 'deferred', reply: 'MTA-STS policy of example.org (enforce, id 1) requires TLS with a valid certificate: mx.example.org failed the TLS handshake: Hostname/IP does not match certificate\'s altnames; not sent in clear' }],
  },

  // --- Where the mail should go -------------------------------------------------------------
  {
    id: 'domain-does-not-exist', rules: ['no-route', 'dns-nxdomain'], text: /does not exist|NXDOMAIN|ENOTFOUND/i,
    summary: "The recipient's domain does not exist.",
    action: 'Check the address for a typo in the part after the @ (for example gmial.com instead of gmail.com).',
    examples: [
      { rule: 'no-route', kind: 'bounced', reply: 'DNS MX lookup for gmial.con: the domain does not exist' },
      { rule: 'dns-nxdomain', kind: 'bounced', reply: 'DNS lookup failed: DNS A lookup for mx.gone.example: the domain does not exist' },
    ],
  },
  {
    id: 'domain-takes-no-mail', rules: ['no-route'], text: /null MX/i,
    summary: "The recipient's domain says it does not receive email at all.",
    action: 'This address cannot receive mail; use another way to reach this person.',
    examples: [{ rule: 'no-route', kind: 'bounced', reply: 'example.com does not accept mail (null MX, RFC 7505)' }],
  },
  {
    id: 'domain-has-no-mail-server', rules: ['no-route'],
    summary: "The recipient's domain has no mail server set up.",
    action: 'Check the address; the domain may only be used for a website.',
    examples: [{ rule: 'no-route', kind: 'bounced', reply: 'shop.example has no MX record and no A/AAAA address to use as implicit MX' }],
  },
  {
    id: 'relay-unreachable', rules: ['route-temporary'], text: /relay host/i,
    summary: 'The relay host this Mailroom sends all mail through could not be found.',
    action: 'Check MAILROOM_RELAY_HOST and that its name resolves.',
    examples: [{ rule: 'route-temporary', kind: 'deferred', reply: 'relay host smtp.relay.example has no A/AAAA address' }],
  },
  {
    id: 'dns-not-answering', rules: ['route-temporary', 'dns-temporary'],
    summary: "The recipient's mail servers could not be looked up: DNS did not answer in time. This is usually temporary.",
    action: `${RETRYING} If it happens for many domains, check the DNS servers Mailroom uses (MAILROOM_DNS_SERVERS).`,
    examples: [{ rule: 'route-temporary', kind: 'deferred', reply: 'DNS MX lookup for example.org: the DNS server failed to answer (SERVFAIL)' }],
  },
  {
    id: 'relay-auth', rules: ['relay-auth-failed'],
    summary: 'The relay host this Mailroom sends all mail through refused our login.',
    action: 'Check MAILROOM_RELAY_USER and MAILROOM_RELAY_PASSWORD.',
    examples: [{ rule: 'relay-auth-failed', kind: 'deferred', reply: '535 5.7.8 Authentication credentials invalid' }],
  },
  {
    id: 'no-server-answered', rules: ['connection-refused', 'timeout', 'unreachable', 'connection-lost', 'no-address', 'network-error', 'protocol-error'],
    summary: "No mail server of the recipient's domain answered.",
    action: `${RETRYING} If it lasts for every domain, your hosting provider may be blocking outgoing connections on port 25; if only for this one, its mail server is down or misconfigured.`,
    examples: [
      { rule: 'connection-refused', kind: 'deferred', reply: 'connection refused (connect ECONNREFUSED 192.0.2.10:25)' },
      { rule: 'timeout', kind: 'deferred', reply: 'timed out (connecting to 192.0.2.10:25 took longer than 15000 ms)' },
    ],
  },
  {
    id: 'tls-failed', rules: ['tls-failed'],
    summary: "The encrypted connection to the recipient's mail server failed.",
    action: RETRYING,
    examples: [{ rule: 'tls-failed', kind: 'deferred', reply: 'TLS negotiation failed (STARTTLS handshake: socket hang up)' }],
  },

  // --- What the recipient's server said ----------------------------------------------------
  {
    id: 'mailbox-does-not-exist',
    rules: ['unknown-user', 'unknown-user-text', 'gmail-account-disabled', 'outlook-recipient-not-found', 'outlook-mailbox-unavailable', 'yahoo-no-account'],
    summary: "The recipient's server says this mailbox does not exist.",
    action: 'Check the address for a typo. Mailroom will not send to it again (it is on your suppression list); remove it there if you are sure it works now.',
    examples: [
      { rule: 'unknown-user', kind: 'bounced', reply: "550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n550-5.1.1 double-checking the recipient's email address for typos or\r\n550 5.1.1 unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser a1si123 - gsmtp" },
      { rule: 'unknown-user', kind: 'bounced', reply: '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup' },
      { rule: 'yahoo-no-account', kind: 'bounced', reply: "554 delivery error: dd This user doesn't have a yahoo.com account (someone@yahoo.com) [0] - mta1234.mail.bf1.yahoo.com" },
      { rule: 'unknown-user-text', kind: 'bounced', reply: '550 <nobody@example.org>: Recipient address rejected: User unknown in virtual mailbox table' },
    ],
  },
  {
    id: 'bad-domain-at-receiver', rules: ['bad-destination-domain'],
    summary: "The recipient's server says the domain of the address is not one it can deliver to.",
    action: 'Check the part of the address after the @.',
    examples: [{ rule: 'bad-destination-domain', kind: 'bounced', reply: '554 5.4.4 SMTPSEND.DNS.NonExistentDomain; nonexistent domain' }],
  },
  {
    id: 'rate-limited',
    rules: ['gmail-rate-limit', 'gmail-try-again-later', 'outlook-ip-rate-limit', 'yahoo-tss04'],
    summary: "The recipient's provider is rate-limiting you: it accepts less mail from your server for a while.",
    action: `${RETRYING} If it happens often: send in smaller batches, warm up a new domain or IP slowly, and mail only people who asked for it — complaints are the usual cause.`,
    examples: [
      { rule: 'gmail-rate-limit', kind: 'deferred', reply: '421-4.7.28 [192.0.2.1] Gmail has detected an unusual rate of unsolicited mail originating\r\n421-4.7.28 from your DKIM domain. To protect our users from spam, mail sent from your\r\n421 4.7.28 domain has been temporarily rate limited. a1si123 - gsmtp' },
      { rule: 'outlook-ip-rate-limit', kind: 'deferred', reply: '451 4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://postmaster.live.com (S775)' },
      { rule: 'yahoo-tss04', kind: 'deferred', reply: '421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes' },
    ],
  },
  {
    id: 'authentication-failed',
    text: /dmarc|\bspf\b|\bdkim\b|sender policy framework|unauthenticated|not pass|authentication (level|check)/i, code: /^[45]/,
    summary: "Your domain's authentication (SPF, DKIM or DMARC) failed at the recipient's server, so it refused the message.",
    action: "Run `mailroom domains verify <your domain>` (or open the domain in the dashboard) and publish every record it shows; make sure mail with your domain in From is sent only through Mailroom or services your SPF and DKIM records cover.",
    examples: [
      { rule: 'dmarc-or-unauthenticated', kind: 'bounced', reply: "550-5.7.26 Unauthenticated email from example.com is not accepted due to domain's\r\n550-5.7.26 DMARC policy. Please contact the administrator of example.com domain if\r\n550 5.7.26 this was a legitimate mail. https://support.google.com/mail/answer/2451690 a1si123 - gsmtp" },
      { rule: 'dmarc-or-unauthenticated', kind: 'bounced', reply: '550 5.7.509 Access denied, sending domain [EXAMPLE.COM] does not pass DMARC verification and has a DMARC policy of reject. [BN8NAM12FT033.eop-nam12.prod.protection.outlook.com]' },
      { rule: 'basic-4xx', kind: 'deferred', reply: '421-4.7.26 This mail has been rate limited because it is unauthenticated. Gmail requires all\r\n421-4.7.26 senders to authenticate with either SPF or DKIM. a1si123 - gsmtp' },
      { rule: 'policy', kind: 'bounced', reply: '550 5.7.23 The message was rejected because of Sender Policy Framework violation' },
    ],
  },
  {
    // Throttling replies a classification row does not know by name (yet) still say so in words.
    id: 'rate-limited-text', code: /^4/, text: /rate limit|unusual rate|too many (messages|connections)|throttl|unexpected volume|sending rate/i,
    summary: "The recipient's provider is rate-limiting you: it accepts less mail from your server for a while.",
    action: `${RETRYING} If it happens often: send in smaller batches and mail only people who asked for it.`,
    examples: [{ rule: 'basic-4xx', kind: 'deferred', reply: '421 Too many messages (1000) from 192.0.2.1 in the last 60 minutes, throttled' }],
  },
  {
    id: 'recipient-receiving-too-fast', rules: ['gmail-receiving-too-fast', 'mailbox-busy'],
    summary: 'The recipient is receiving more mail than their provider lets in right now.',
    action: RETRYING,
    examples: [{ rule: 'gmail-receiving-too-fast', kind: 'deferred', reply: '450-4.2.1 The user you are trying to contact is receiving mail at a rate that\r\n450-4.2.1 prevents additional messages from being delivered. Please resend your\r\n450 4.2.1 message at a later time. a1si123 - gsmtp' }],
  },
  {
    id: 'sender-blocked', rules: ['yahoo-tss09-permanent', 'outlook-ip-blocked', 'blocklisted'],
    summary: "Your sending server (its IP address or domain) is on a block list the recipient's provider uses, so it refuses your mail.",
    action: "Look the sending IP up on the block list the reply names (for example spamhaus.org), fix what got it listed, and ask for delisting; the recipient's address itself is fine.",
    examples: [
      { rule: 'blocklisted', kind: 'bounced', reply: '554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.1' },
      { rule: 'outlook-ip-blocked', kind: 'bounced', reply: '550 5.7.606 Access denied, banned sending IP [192.0.2.1]. To request removal from this list please visit https://sender.office.com/' },
    ],
  },
  {
    id: 'judged-spam', rules: ['spam-content'],
    summary: "The recipient's server judged this message to be spam (or unsafe) and refused it.",
    action: 'Review the content and links, and mail only people who asked for it; the address itself is fine.',
    examples: [{ rule: 'spam-content', kind: 'bounced', reply: '550-5.7.1 [192.0.2.1] Our system has detected that this message is likely\r\n550-5.7.1 unsolicited mail. To reduce the amount of spam sent to Gmail, this message\r\n550 5.7.1 has been blocked. a1si123 - gsmtp' }],
  },
  {
    id: 'mailbox-full-for-now', rules: ['mailbox-full-temporary'],
    summary: "The recipient's mailbox is full.",
    action: `${RETRYING} The recipient has to make room first.`,
    examples: [{ rule: 'mailbox-full-temporary', kind: 'deferred', reply: '452-4.2.2 The recipient\'s inbox is out of storage space. Please direct the\r\n452-4.2.2 recipient to https://support.google.com/mail/?p=OverQuotaTemp a1si123 - gsmtp' }],
  },
  {
    id: 'mailbox-full', rules: ['mailbox-full', 'mailbox-full-text'],
    summary: "The recipient's mailbox is full, and its server has given up on it (it may be abandoned).",
    action: 'Reach the person another way, or try again much later.',
    examples: [{ rule: 'mailbox-full', kind: 'bounced', reply: '552-5.2.2 The email account that you tried to reach is over quota and inactive.\r\n552 5.2.2 https://support.google.com/mail/?p=OverQuotaPerm a1si123 - gsmtp' }],
  },
  {
    id: 'too-large', rules: ['message-too-large'],
    summary: "The message is bigger than the recipient's server accepts.",
    action: 'Send a smaller message: link to large files instead of attaching them.',
    examples: [{ rule: 'message-too-large', kind: 'bounced', reply: "552-5.3.4 Your message exceeded Google's message size limits. Please visit\r\n552 5.3.4 https://support.google.com/mail/?p=MaxSizeError to view our size guidelines. a1si123 - gsmtp" }],
  },
  {
    id: 'relay-denied', rules: ['relay-denied'],
    summary: "The server the recipient's domain points to does not accept mail for that domain.",
    action: "Check the address; otherwise the recipient's mail administrator has to fix their setup.",
    examples: [{ rule: 'relay-denied', kind: 'bounced', reply: '554 5.7.1 <someone@example.org>: Relay access denied' }],
  },
  {
    id: 'greylisted', rules: ['greylisting'],
    summary: "The recipient's server asks new senders to come back a little later (greylisting). This is normal; the next attempt usually goes through.",
    action: RETRYING,
    examples: [{ rule: 'greylisting', kind: 'deferred', reply: '450 4.2.0 <someone@example.org>: Recipient address rejected: Greylisted, see https://postgrey.schweikert.ch/help/example.org.html' }],
  },
  {
    id: 'too-many-recipients', rules: ['too-many-recipients'],
    summary: "The recipient's server takes fewer recipients per message; the others are sent in a later attempt.",
    action: RETRYING,
    examples: [{ rule: 'too-many-recipients', kind: 'deferred', reply: '552 5.5.3 Too many recipients' }],
  },
  {
    id: 'confused-session', rules: ['bad-sequence', 'unexpected-reply'],
    summary: "The recipient's server answered in a way that made no sense at that point of the conversation.",
    action: RETRYING,
    examples: [{ rule: 'bad-sequence', kind: 'deferred', reply: '503 5.5.1 Error: need MAIL command' }],
  },
  {
    id: 'refused-by-policy', rules: ['policy'],
    summary: "The recipient's server refused the message because of one of its own rules.",
    action: "The server's reply below says which; if it names your domain or IP, contact the recipient's postmaster.",
    examples: [{ rule: 'policy', kind: 'bounced', reply: '550 5.7.1 Message rejected due to local policy' }],
  },

  // --- Catch-alls ---------------------------------------------------------------------------
  {
    id: 'try-again-later', kind: 'deferred',
    summary: "The recipient's server asked us to try again later.",
    action: RETRYING,
    examples: [{ rule: 'basic-4xx', kind: 'deferred', reply: '451 4.3.2 System not accepting network messages' }],
  },
  {
    id: 'refused', kind: 'bounced',
    summary: "The recipient's server refused the message for good.",
    action: "The server's reply below gives its reason.",
    examples: [{ rule: 'basic-5xx', kind: 'bounced', reply: '554 Transaction failed' }],
  },
];

const SUPPRESSED: Explanation = {
  summary: 'Not sent: the address is on your suppression list (after a bounce saying it does not exist, a spam complaint, or because you added it).',
  action: 'Remove it from the suppression list if you are sure the address works now.',
};
const COMPLAINED: Explanation = {
  summary: 'The recipient marked your message as spam.',
  action: 'Mailroom will not send to this address again; stop mailing this person.',
};

/** The plain-words explanation of an outcome or a recipient's status; null when there is nothing to explain (delivered, queued). */
export function explain(facts: OutcomeFacts): Explanation | null {
  if (facts.status === 'suppressed') return SUPPRESSED;
  if (facts.status === 'complained') return COMPLAINED;
  if (facts.status === 'expired') {
    const last = explainReply('deferred', facts.rule, facts.reply);
    return {
      summary: `Mailroom kept trying until the message expired, and gave up. The last problem: ${last.summary}`,
      action: last.action === undefined || last.action.startsWith(RETRYING) ? "Send it again once the problem is solved." : last.action,
    };
  }
  if (facts.status === 'deferred' || facts.status === 'bounced') return explainReply(facts.status, facts.rule, facts.reply);
  // Queued with a remote reply: a site that asked for less held it back (queue/hold-back.ts), with no attempt.
  if (facts.status === 'queued' && facts.reply) return explainReply('deferred', facts.rule, facts.reply);
  return null;
}

/** The row that explains an attempt that ended `kind` under `rule` with `reply`. */
export function explanationRow(kind: 'deferred' | 'bounced', knownRule: string | null, reply: string | null): ExplanationRow {
  const parsed = parseReply(reply ?? '');
  // Without a recorded rule (a bounce reported later by a DSN, an attempt from before rules were
  // kept), a remote reply is classified again to find it.
  const rule = knownRule ?? (parsed.code > 0 ? classifyRawReply(reply ?? '').rule : null);
  const enhanced = parsed.enhanced ?? '';
  const code = parsed.code === 0 ? '' : String(parsed.code);
  const text = parsed.code === 0 ? (reply ?? '') : parsed.text;
  for (const row of EXPLANATIONS) {
    if (row.kind && row.kind !== kind) continue;
    if (row.rules && (rule === null || !row.rules.includes(rule))) continue;
    if (row.code && !row.code.test(code)) continue;
    if (row.enhanced && !row.enhanced.test(enhanced)) continue;
    if (row.text && !row.text.test(text)) continue;
    return row;
  }
  // The two catch-alls above match every kind; this line is never reached.
  return EXPLANATIONS[EXPLANATIONS.length - 1];
}

function explainReply(kind: 'deferred' | 'bounced', rule: string | null, reply: string | null): Explanation {
  const row = explanationRow(kind, rule, reply);
  return row.action === undefined ? { summary: row.summary } : { summary: row.summary, action: row.action };
}
