/**
 * The server's own name (MAILROOM_HOSTNAME) is what the SPF record (`a:HOST`)
 * and the return-path CNAME point at, what the certificate names and what
 * Gmail is told to connect to. A bare machine name such as `vm` works on the
 * machine and nowhere else, so records built on it break SPF and bounce
 * handling once published. These checks let every edge (start-up log, CLI,
 * API, dashboard) say so instead of handing such records out silently.
 */
import { isIP } from 'node:net';
import type { DnsResolver } from '../dns/resolver.ts';

// Names that only mean something inside one network (RFC 6762, RFC 8375, common router defaults).
const PRIVATE_SUFFIXES = ['local', 'localhost', 'localdomain', 'internal', 'lan', 'home', 'home.arpa', 'intranet', 'corp'];

/** The one-line fix, shown wherever the problem is. */
export const HOSTNAME_FIX = 'set MAILROOM_HOSTNAME to the fully qualified name of this server, e.g. MAILROOM_HOSTNAME=mail.example.com, and give that name an A/AAAA record pointing here';

/** Why the name cannot be used in DNS records others look up, or null when it can. */
export function hostnameProblem(hostname: string): string | null {
  const name = hostname.trim().toLowerCase().replace(/\.$/, '');
  if (isIP(name)) return `"${hostname}" is an IP address, not a host name: SPF "a:" and a CNAME need a name`;
  const labels = name.split('.');
  if (labels.length < 2) return `"${hostname}" is not a fully qualified name (it has no domain part), so no one else can look it up`;
  const suffix = PRIVATE_SUFFIXES.find((s) => name === s || name.endsWith(`.${s}`));
  if (suffix) return `"${hostname}" ends in .${suffix}, which exists only inside a private network`;
  if (!/^[a-z]{2,63}$|^xn--[a-z0-9-]{1,59}$/.test(labels.at(-1)!)) return `"${hostname}" does not end in a top-level domain`;
  return null;
}

/** The start-up warning: the problem, what it breaks, and the fix. */
export function hostnameWarning(hostname: string): string | null {
  const problem = hostnameProblem(hostname);
  if (!problem) return null;
  return `MAILROOM_HOSTNAME ${problem}. The SPF and return-path records, the certificate and the SMTP server name shown to users are not usable until it is: ${HOSTNAME_FIX}.`;
}

export interface ServerHostCheck {
  purpose: 'server-host';
  type: 'A';
  name: string;
  expected: string;
  found: string[];
  ok: boolean;
  error?: string;
}

/**
 * Verification's extra check: the name the SPF record and the return-path CNAME point at must
 * resolve, or both are dead ends for receivers however correctly they were published.
 */
export async function checkServerHost(hostname: string, resolver: DnsResolver): Promise<ServerHostCheck> {
  const base = { purpose: 'server-host' as const, type: 'A' as const, name: hostname, expected: 'an A or AAAA record (this server\'s address)' };
  const problem = hostnameProblem(hostname);
  if (problem) return { ...base, found: [], ok: false, error: `The records point at ${hostname}, but ${problem} — ${HOSTNAME_FIX}.` };
  const [a, aaaa] = await Promise.allSettled([resolver.a(hostname), resolver.aaaa(hostname)]);
  const found = [a, aaaa].flatMap((result) => (result.status === 'fulfilled' ? result.value : []));
  if (found.length > 0) return { ...base, found, ok: true };
  const failed = [a, aaaa].find((result) => result.status === 'rejected');
  const why = failed ? `the lookup failed (${(failed.reason as Error)?.message ?? failed.reason})` : 'it has no A or AAAA record';
  return {
    ...base, found, ok: false,
    error: `The SPF record and the return-path CNAME point at ${hostname}, but ${why}: receivers cannot check SPF or return bounces. Publish an A (or AAAA) record for ${hostname} pointing at this server.`,
  };
}
