/**
 * What one delivery attempt did to one recipient, as a value: Delivered, Deferred or Bounced.
 * The queue decides what happens next from `kind` alone; the API shows `reply` and the attempt
 * facts to the user ("every attempt with the remote reply"), so `reply` is always the remote
 * server's own words when there were any, and our plain description of the socket or DNS
 * failure when there were none.
 */
import type { BounceClass, Classification } from '../remote-replies/verdict.ts';

/** A recipient domain's MTA-STS mode (RFC 8461); 'none' withdraws the policy. */
export type StsMode = 'enforce' | 'testing' | 'none';

/** What the attempt record says about MTA-STS: which policy applied and, when one did, what failed. */
export interface StsAttemptFacts {
  mode: StsMode;
  policyId: string;
  /** What did (enforce) or would have (testing) failed; absent when all was well. */
  failure?: string;
}

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
 * `rule` names the reply-rules.ts row (or built-in rule) that decided the verdict, so logs and
 * tests can tell "deferred because Gmail rate-limits" from "deferred because it was a 4xx".
 */
export interface Delivered extends AttemptFacts { kind: 'delivered'; reply: string }
export interface Deferred extends AttemptFacts { kind: 'deferred'; reply: string; rule: string }
export interface Bounced extends AttemptFacts { kind: 'bounced'; reply: string; rule: string; bounceClass: BounceClass }

export type Outcome = Delivered | Deferred | Bounced;

export function outcomeOf(verdict: Classification, reply: string, facts: AttemptFacts): Deferred | Bounced {
  return verdict.kind === 'deferred'
    ? { kind: 'deferred', reply, rule: verdict.rule, ...facts }
    : { kind: 'bounced', reply, rule: verdict.rule, bounceClass: verdict.bounceClass, ...facts };
}

export function delivered(reply: string, facts: AttemptFacts): Delivered {
  return { kind: 'delivered', reply, ...facts };
}
