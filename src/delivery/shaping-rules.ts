/**
 * Which replies tell us to send less to a whole site, as data. The table is walked top to
 * bottom; the first row whose every given matcher fits decides. A reply no row matches says
 * nothing about the site (it may still defer or bounce its recipient: that is classify.ts).
 *
 * - `throttle`: the site asks for fewer messages or connections. Its concurrency and rate are
 *   lowered for the whole cluster (shaping.ts), and the recipient is held back, not counted
 *   as an attempt.
 * - `suspend`: the site refuses us for a while (a temporary block). Nothing is sent to it
 *   until `suspendMs` has passed, then the throttled rate applies.
 *
 * What is deliberately NOT here: a plain 450/451 "try again later" and greylisting (a 451 4.7.1 says
 * nothing about our rate, and greylisting wants exactly one retry after a delay), a
 * per-mailbox limit such as Gmail's 450 4.2.1 "receiving mail at a rate" (only that
 * recipient is busy), and 5xx block-list refusals (they bounce, see reply-rules.ts; a
 * listing is the operator's to fix, not something waiting out a suspension cures).
 *
 * Every row carries a real-looking `example`; the test asserts each example is decided by
 * its own row.
 */
import { parseReply } from '../remote-replies/classify.ts';

export type ShapingSignal = 'throttle' | 'suspend';

export interface ShapingRule {
  id: string;
  /** Tested against the 3-digit code as a string. */
  code?: RegExp;
  /** Tested against the enhanced status code ('' when the reply has none). */
  enhanced?: RegExp;
  /** Tested against the reply text (codes stripped). */
  text?: RegExp;
  signal: ShapingSignal;
  /** For `suspend`: how long nothing is sent to the site. */
  suspendMs?: number;
  example: string;
}

const MINUTE = 60_000;

export const SHAPING_RULES: readonly ShapingRule[] = [
  // --- Temporary blocks: stop sending for a while ------------------------------------------
  {
    // Yahoo's "will be permanently deferred" bounces the recipient (reply-rules.ts) and tells us the IP is blocked for now.
    id: 'yahoo-blocked', code: /^4/, text: /\[(TS0[1-3]|TSS09)\]/, signal: 'suspend', suspendMs: 60 * MINUTE,
    example: '421 4.7.0 [TS03] All messages from 192.0.2.1 will be permanently deferred; Retrying will NOT succeed. See https://postmaster.yahooinc.com/error-codes',
  },
  {
    id: 'outlook-access-denied', code: /^4/, enhanced: /^4\.7\.(5\d\d|6[0-4]\d)$/, text: /access denied|banned|blocked/i, signal: 'suspend', suspendMs: 30 * MINUTE,
    example: '451 4.7.500 Access denied, please try again later. For more information please go to http://go.microsoft.com/fwlink/?LinkID=526655 (S844) [DM3NAM04FT019.eop-NAM04.prod.protection.outlook.com]',
  },
  {
    id: 'temporarily-blocked', code: /^4/, text: /temporarily (blocked|banned|suspended)|blocked for \d+ ?(minutes|hours)/i, signal: 'suspend', suspendMs: 15 * MINUTE,
    example: '421 4.7.1 Your IP 192.0.2.1 is temporarily blocked for 15 minutes because of too many failed deliveries',
  },

  // --- Provider rate limits -----------------------------------------------------------------
  {
    id: 'gmail-rate-limit', code: /^4/, enhanced: /^4\.7\.(28|0)$/, text: /unusual rate|rate limited|rate-limited/i, signal: 'throttle',
    example: '421 4.7.28 [192.0.2.1      15] Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited. Please visit https://support.google.com/mail/?p=UnsolicitedRateLimitError to review our Bulk Email Senders Guidelines. a1si123 - gsmtp',
  },
  {
    id: 'gmail-closing-connection', code: /^4/, enhanced: /^4\.7\.0$/, text: /Try again later, closing connection/i, signal: 'throttle',
    example: '421 4.7.0 Try again later, closing connection. (EHLO) a1si123 - gsmtp',
  },
  {
    id: 'yahoo-tss04', code: /^4/, text: /\[TSS0[1-4]\]/, signal: 'throttle',
    example: '421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes',
  },
  {
    id: 'outlook-rate-limit', code: /^4/, enhanced: /^4\.7\.650$/, signal: 'throttle',
    example: '451 4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://postmaster.live.com (S775) [Name=Protocol Filter Agent][AGT=PFA][MxId=11BB5A6B0000] [BN1NAM02FT012.eop-nam02.prod.protection.outlook.com]',
  },
  {
    id: 'outlook-server-busy', code: /^4/, enhanced: /^4\.(7\.500|3\.2)$/, text: /server busy|try again later from/i, signal: 'throttle',
    example: '451 4.7.500 Server busy. Please try again later from [192.0.2.1]. (S77714) [DB8EUR05FT012.eop-eur05.prod.protection.outlook.com]',
  },
  {
    id: 'apple-rate-limit', code: /^4/, text: /\[(CS|DM)\d+\]|icloud.*(rate|volume)/i, signal: 'throttle',
    example: '421 4.7.0 [CS01] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137',
  },

  // --- What any server says when it wants less ---------------------------------------------
  {
    id: 'too-many-connections', code: /^4/, text: /too many (concurrent |simultaneous )?(smtp )?(connections|sessions)|connection (rate )?limit/i, signal: 'throttle',
    example: '421 4.7.0 mx.example.net Error: too many connections from 192.0.2.1',
  },
  {
    id: 'rate-or-reputation', code: /^4/, enhanced: /^(4\.7\.\d+|4\.4\.5)?$/,
    text: /rate.?limit|too (many messages|fast|quickly)|throttl|slow down|sending rate|unexpected volume|unusual (rate|volume)|reputation/i,
    signal: 'throttle',
    example: '450 4.7.1 Rate limit exceeded for 192.0.2.1, slow down',
  },
  {
    // 421 closes the channel: from a receiver that is up, it is how "not so much, not so fast" is
    // said (the product contract counts it as throttling). A server going down for maintenance
    // (4.3.2) or dropping an idle session (4.4.2) is not saying anything about our pace.
    id: 'service-not-available', code: /^421$/, enhanced: /^(?!4\.(3|4)\.2$)/, signal: 'throttle',
    example: '421 4.7.0 mx.example.net Service temporarily unavailable, try again later',
  },
];

export interface SiteSignal {
  signal: ShapingSignal;
  rule: string;
  suspendMs: number;
}

/** What a reply says about its whole site, or null when it says nothing. */
export function siteSignalOf(reply: string): SiteSignal | null {
  const { code, enhanced, text } = parseReply(reply);
  if (code < 400 || code >= 500) return null;
  const codeText = String(code);
  for (const rule of SHAPING_RULES) {
    if (rule.code && !rule.code.test(codeText)) continue;
    if (rule.enhanced && !rule.enhanced.test(enhanced ?? '')) continue;
    if (rule.text && !rule.text.test(text)) continue;
    return { signal: rule.signal, rule: rule.id, suspendMs: rule.suspendMs ?? 0 };
  }
  return null;
}
