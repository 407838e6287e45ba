/**
 * Where mail for a domain goes (RFC 5321 section 5.1): the MX hosts by preference, each with
 * its addresses, or the domain itself when it has no MX (the "implicit MX"), or nowhere when
 * it publishes a null MX (RFC 7505) or does not exist. With a relay host configured, all mail
 * goes to that one host instead.
 *
 * Only the resolver passed in is asked, never the system's DNS, so tests (and operators with
 * MAILROOM_DNS_SERVERS) decide every answer.
 */
import net from 'node:net';
import type { DnsResolver, MxRecord } from '../dns/resolver.ts';
import type { MtaStsPolicies, StsPolicy } from './mta-sts.ts';

export interface RouteHost {
  /** The MX name: shown on the attempt and sent as the TLS server name. */
  name: string;
  /** A addresses first, then AAAA. */
  ips: string[];
  port: number;
}

export type Route =
  /** `mtaSts`: the recipient domain's MTA-STS policy, which send.ts applies; null when it has none. */
  | { kind: 'hosts'; hosts: RouteHost[]; mtaSts?: StsPolicy | null }
  /** `temporary`: a DNS failure worth retrying; otherwise the domain cannot receive mail. */
  | { kind: 'undeliverable'; reply: string; temporary: boolean };

export interface RouteOptions {
  port: number;
  relayHost?: { host: string; port: number } | null;
  /** MTA-STS policies (RFC 8461); not asked for mail through a relay host, which is the relay's to apply. */
  mtaSts?: MtaStsPolicies | null;
}

// A domain listing more MX hosts than this is either misconfigured or hostile; the first ones
// by preference are all a delivery attempt will ever get to anyway.
const MAX_HOSTS = 10;

export async function resolveRoute(domain: string, resolver: DnsResolver, opts: RouteOptions): Promise<Route> {
  if (opts.relayHost) return relayRoute(opts.relayHost, resolver);
  if (!opts.mtaSts) return mxRoute(domain, resolver, opts);
  // Asked alongside the MX lookup, so a policy costs no extra round trip when cached.
  const policy = opts.mtaSts.policyFor(domain).catch(() => null);
  const route = await mxRoute(domain, resolver, opts);
  return route.kind === 'hosts' ? { ...route, mtaSts: await policy } : route;
}

async function mxRoute(domain: string, resolver: DnsResolver, opts: RouteOptions): Promise<Route> {
  let records: MxRecord[];
  try {
    records = await resolver.mx(domain);
  } catch (err) {
    return lookupFailed(err, `MX lookup for ${domain}`);
  }

  const isNull = (r: MxRecord) => r.exchange === '' || r.exchange === '.';
  if (records.length > 0 && records.every(isNull)) {
    return { kind: 'undeliverable', reply: `${domain} does not accept mail (null MX, RFC 7505)`, temporary: false };
  }
  const names = records.length === 0 ? [domain] : byPreference(records.filter((r) => !isNull(r))).slice(0, MAX_HOSTS);

  const hosts: RouteHost[] = [];
  let temporaryFailure: string | null = null;
  for (const name of names) {
    try {
      const ips = await addressesOf(name, resolver);
      if (ips.length > 0) hosts.push({ name, ips, port: opts.port });
    } catch (err) {
      // One MX host failing to resolve is the next host's chance; remember why for the reply.
      temporaryFailure ??= describe(err);
    }
  }
  if (hosts.length > 0) return { kind: 'hosts', hosts };
  if (temporaryFailure) return { kind: 'undeliverable', reply: temporaryFailure, temporary: true };
  const reply = records.length === 0
    ? `${domain} has no MX record and no A/AAAA address to use as implicit MX`
    : `no MX host of ${domain} has an address (${names.join(', ')})`;
  return { kind: 'undeliverable', reply, temporary: false };
}

async function relayRoute(relay: { host: string; port: number }, resolver: DnsResolver): Promise<Route> {
  try {
    const ips = await addressesOf(relay.host, resolver);
    if (ips.length > 0) return { kind: 'hosts', hosts: [{ name: relay.host, ips, port: relay.port }] };
    // The operator's relay not resolving is a configuration problem to fix, never the recipient's.
    return { kind: 'undeliverable', reply: `relay host ${relay.host} has no A/AAAA address`, temporary: true };
  } catch (err) {
    return { kind: 'undeliverable', reply: describe(err), temporary: true };
  }
}

/** Lowest preference first; hosts of equal preference shuffled so load spreads over them (RFC 5321 5.1). */
function byPreference(records: MxRecord[]): string[] {
  const shuffled = records.map((r) => ({ r, key: Math.random() }));
  shuffled.sort((x, y) => x.r.priority - y.r.priority || x.key - y.key);
  return [...new Set(shuffled.map(({ r }) => r.exchange.toLowerCase()))];
}

/** A then AAAA. An MX that (wrongly) names an IP literal is used as is, as Postfix does. */
async function addressesOf(name: string, resolver: DnsResolver): Promise<string[]> {
  if (net.isIP(name)) return [name];
  // One family failing (say, a broken AAAA server) must not hide the other's answer.
  const [a, aaaa] = await Promise.allSettled([resolver.a(name), resolver.aaaa(name)]);
  const ips = [a, aaaa].flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
  if (ips.length === 0) for (const r of [a, aaaa]) if (r.status === 'rejected') throw r.reason;
  return ips;
}

function lookupFailed(err: unknown, what: string): Route {
  const temporary = !(typeof err === 'object' && err !== null && 'temporary' in err && err.temporary === false);
  return { kind: 'undeliverable', reply: describe(err) || `${what} failed`, temporary };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
