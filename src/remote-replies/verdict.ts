/**
 * What a remote reply means for the recipient, without the facts of the attempt that got it:
 * try again later (deferred) or never (bounced, and why). classify.ts decides it from a reply;
 * the queue records it (queue/outcome.ts), and a hard bounce feeds the suppression list.
 */

/**
 * Why a recipient bounced. "Hard" classes say the address itself will never work and feed the
 * suppression list; the others say this message (or our sending) was refused, and the next
 * message to the same address may well go through, so suppressing it would lose mail.
 */
export type BounceClass =
  | 'unknown-user' // hard: no such mailbox (5.1.1, 5.1.10, "does not exist")
  | 'no-mx' // hard: the domain does not accept mail (null MX, NXDOMAIN, 5.1.2)
  | 'mailbox-full' // soft: over quota with a permanent code (see reply-rules.ts)
  | 'message-too-large' // soft: 5.3.4 / 5.2.3
  | 'policy' // soft: DMARC, authentication, local policy, relaying denied
  | 'spam' // soft: the content was judged to be spam
  | 'blocked' // soft: our sending IP or domain is on a block list
  | 'other'; // soft: a 5xx we have no rule for

const HARD_BOUNCES: ReadonlySet<BounceClass> = new Set(['unknown-user', 'no-mx']);

/** True when the bounce proves the address undeliverable, so later mail to it should be suppressed. */
export function isHardBounce(bounceClass: BounceClass): boolean {
  return HARD_BOUNCES.has(bounceClass);
}

/** A classification without the attempt facts: what classify.ts decides from a reply or an error. */
export type Classification =
  | { kind: 'deferred'; rule: string }
  | { kind: 'bounced'; rule: string; bounceClass: BounceClass };
