/**
 * MTA-STS (RFC 8461) for outbound mail: which policy applies to a recipient domain, and what it
 * says of an MX host. A domain that publishes `_mta-sts.<domain>` TXT and a policy file asks
 * senders to use TLS with a valid certificate, and only to the MX hosts it names:
 *
 * - `enforce`: delivery skips MX hosts the policy does not name, requires STARTTLS with a
 *   certificate valid for the MX name, and defers rather than send in clear (send.ts);
 * - `testing`: deliver as usual, and record on the attempt what would have failed;
 * - `none`, or no policy: opportunistic TLS as always.
 *
 * Policies are cached per domain for their max_age (RFC 8461 5.1): the TXT record is asked at
 * each attempt (the id tells whether the policy changed), the file is fetched again only when the
 * id changes or the cached copy expired. A cached policy that is still valid keeps applying when
 * the TXT record disappears or the fetch fails — that is what stops an attacker who can drop DNS
 * answers from downgrading delivery to plaintext. The cache lives in the store (mta-sts-store.ts),
 * shared by every node and kept across restarts, with a copy in this node's memory in front.
 *
 * The TXT record and the policy file are parsed and MX names matched by mailauth; the lookups
 * go through our resolver and the fetch is ours (mta-sts-fetch.ts).
 */
import { parsePolicy, resolvePolicy, validateMx } from 'mailauth/lib/mta-sts.js';
import type { DnsResolver } from '../dns/resolver.ts';
import { fetchPolicyText } from './mta-sts-fetch.ts';
import type { PolicyStore } from './mta-sts-store.ts';
import type { StsAttemptFacts, StsMode } from '../queue/outcome.ts';

export interface StsPolicy {
  domain: string;
  /** The TXT record's id: it changes whenever the policy file does. */
  id: string;
  mode: StsMode;
  /** MX patterns: exact names or `*.example.com` (one left-most label). */
  mx: string[];
  maxAgeSeconds: number;
  fetchedAt: number;
  expiresAt: number;
}

export interface MtaStsOptions {
  resolver: DnsResolver;
  /** Port of the policy host: 443, except in tests. */
  policyPort?: number;
  /** Trusted roots for the policy host (and MX hosts, see send.ts); undefined: system CAs + NODE_EXTRA_CA_CERTS. */
  ca?: string[];
  fetchTimeoutMs?: number;
  now?: () => number;
  /** Where fetched policies are kept for other nodes and the next start; memory only without one. */
  store?: PolicyStore;
  /**
   * How long one answer (policy or none) is reused without asking DNS again: like the resolver's
   * answer cache, it keeps a TXT query (and a store read) off every delivery to a busy domain.
   */
  answerCacheMs?: number;
}

// RFC 8461 3.2 caps max_age at a year; longer values are read as a year.
const MAX_AGE_LIMIT_SECONDS = 31_557_600;

// A policy id whose file could not be fetched is not fetched again for this long, so a broken
// policy host does not add an HTTPS timeout to every attempt to its domain.
const FAILED_FETCH_PAUSE_MS = 5 * 60_000;

export class MtaStsPolicies {
  #opts: MtaStsOptions;
  #cache = new Map<string, StsPolicy>();
  #inFlight = new Map<string, Promise<StsPolicy | null>>();
  #failedFetches = new Map<string, { id: string; until: number }>();
  #answers = new Map<string, { policy: StsPolicy | null; until: number }>();

  constructor(opts: MtaStsOptions) {
    this.#opts = opts;
  }

  /** The policy to apply to mail for `domain` now, or null when it has none (or one in `none` mode that is not cached). */
  policyFor(domain: string): Promise<StsPolicy | null> {
    const key = domain.toLowerCase().replace(/\.$/, '');
    // Many deliveries to one domain at once share one lookup (and one fetch).
    const now = this.#now();
    const recent = this.#answers.get(key);
    if (recent && recent.until > now && (recent.policy === null || recent.policy.expiresAt > now)) return Promise.resolve(recent.policy);
    let pending = this.#inFlight.get(key);
    if (!pending) {
      pending = this.#lookup(key).then((policy) => {
        const ttl = this.#opts.answerCacheMs ?? 30_000;
        if (ttl > 0) {
          if (this.#answers.size > 10_000) this.#answers.clear();
          this.#answers.set(key, { policy, until: this.#now() + ttl });
        }
        return policy;
      }).finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, pending);
    }
    return pending;
  }

  async #lookup(domain: string): Promise<StsPolicy | null> {
    const now = this.#now();
    const cached = this.#cache.get(domain) ?? (await this.#load(domain));
    const valid = cached && cached.expiresAt > now ? cached : null;
    if (cached && !valid) this.#cache.delete(domain);

    let id: string | false;
    try {
      id = await resolvePolicy(domain, { resolver: this.#txtResolver() });
    } catch {
      // DNS failing (or several STS records): keep what we knew, else behave as without a policy.
      return valid;
    }
    if (!id) return valid;
    if (valid && valid.id === id) return valid;
    // Another node may have fetched this policy already.
    const shared = await this.#load(domain);
    if (shared && shared.id === id && shared.expiresAt > now) return shared;
    const failed = this.#failedFetches.get(domain);
    if (failed && failed.id === id && failed.until > now) return valid;

    try {
      const text = await fetchPolicyText(domain, {
        resolver: this.#opts.resolver, port: this.#opts.policyPort ?? 443, ca: this.#opts.ca, timeoutMs: this.#opts.fetchTimeoutMs ?? 30_000,
      });
      const parsed = parsePolicy(text);
      const maxAgeSeconds = Math.min(parsed.maxAge ?? 0, MAX_AGE_LIMIT_SECONDS);
      const fetchedAt = this.#now();
      const policy: StsPolicy = {
        domain, id, mode: parsed.mode, mx: parsed.mx ?? [], maxAgeSeconds, fetchedAt, expiresAt: fetchedAt + maxAgeSeconds * 1000,
      };
      this.#cache.set(domain, policy);
      this.#failedFetches.delete(domain);
      // Losing the shared copy costs another fetch elsewhere, never this delivery.
      await this.#opts.store?.save(policy).catch(() => {});
      return policy;
    } catch {
      this.#failedFetches.set(domain, { id, until: this.#now() + FAILED_FETCH_PAUSE_MS });
      // RFC 8461 5.1: a policy that cannot be fetched leaves the cached one (if still valid) in force.
      return valid;
    }
  }

  async #load(domain: string): Promise<StsPolicy | undefined> {
    const stored = await this.#opts.store?.load(domain).catch(() => null);
    if (!stored) return undefined;
    if (stored.expiresAt > this.#now()) this.#cache.set(domain, stored);
    return stored;
  }

  /** mailauth asks TXT through a node-style resolve(name, rrtype) and wants each record as its chunks. */
  #txtResolver(): (name: string, rrtype: string) => Promise<string[][]> {
    return async (name, rrtype) => {
      if (rrtype !== 'TXT') throw Object.assign(new Error(`unexpected ${rrtype} lookup`), { code: 'ENOTIMP' });
      return (await this.#opts.resolver.txt(name)).map((record) => [record]);
    };
  }

  #now(): number {
    return (this.#opts.now ?? Date.now)();
  }
}

/** Whether the policy names this MX host (exact, or `*.` for one left-most label). */
export function policyNamesMx(policy: StsPolicy, mxName: string): boolean {
  return validateMx(mxName, { mode: policy.mode, mx: policy.mx }).valid;
}
