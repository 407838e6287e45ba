/**
 * What one delivery attempt did to one recipient, as a value: Delivered, Deferred or Bounced.
 * The queue decides what happens next from `kind` alone; the API shows `reply` and the attempt
 * facts to the user ("every attempt with the remote reply"), so `reply` is always the remote
 * server's own words when there were any, and our plain description of the socket or DNS
 * failure when there were none.
 */
import type { StsAttemptFacts } from './mta-sts.ts';

/** How TLS went on the connection the attempt used. Opportunistic TLS: recorded, never required. */
export interface TlsFacts {
  used: boolean;
  /** e.g. 'TLSv1.3', from the socket once STARTTLS completed. */
  version?: string;
  /** Whether the MX certificate verified against the system CAs for the MX name. */
  authorized?: boolean;
}

export interface AttemptFacts {
  /** MX host name tried last (the relay host when one is configured); null when none was reached. */
  mx: string | null;
  ip: string | null;
  tls: TlsFacts;
  /** Wall time of the whole attempt, every host tried included. */
  durationMs: number;
  /** The recipient domain's MTA-STS policy, when it has one, and what failed under it. */
  mtaSts?: StsAttemptFacts;
}

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

/**
 * `rule` names the reply-rules.ts row (or built-in rule) that decided the verdict, so logs and
 * tests can tell "deferred because Gmail rate-limits" from "deferred because it was a 4xx".
 */
export interface Delivered extends AttemptFacts { kind: 'delivered'; reply: string }
export interface Deferred extends AttemptFacts { kind: 'deferred'; reply: string; rule: string }
export interface Bounced extends AttemptFacts { kind: 'bounced'; reply: string; rule: string; bounceClass: BounceClass }

export type Outcome = Delivered | Deferred | Bounced;

/** A classification without the attempt facts: what classify.ts decides from a reply or an error. */
export type Classification =
  | { kind: 'deferred'; rule: string }
  | { kind: 'bounced'; rule: string; bounceClass: BounceClass };

export function outcomeOf(verdict: Classification, reply: string, facts: AttemptFacts): Deferred | Bounced {
  return verdict.kind === 'deferred'
    ? { kind: 'deferred', reply, rule: verdict.rule, ...facts }
    : { kind: 'bounced', reply, rule: verdict.rule, bounceClass: verdict.bounceClass, ...facts };
}

export function delivered(reply: string, facts: AttemptFacts): Delivered {
  return { kind: 'delivered', reply, ...facts };
}
