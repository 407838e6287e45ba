/**
 * DNS lookups for delivery (MX, A/AAAA), domain verification (TXT, CNAME) and mailauth.
 *
 * One resolver is built at start from MAILROOM_DNS_SERVERS and passed to whoever needs it, so
 * tests point the whole service at a loopback DNS server instead of stubbing lookups.
 * Every answer is one of three things a caller can act on: records, "no such records" (an
 * empty list), or a DnsLookupError that says whether trying again later could help.
 */
import { Resolver } from 'node:dns/promises';

export interface MxRecord {
  exchange: string;
  priority: number;
}

export interface DnsResolver {
  /** [] when the name exists but has no MX; throws DnsLookupError on NXDOMAIN (permanent) or timeouts (temporary). A null MX comes back as exchange "". */
  mx(name: string): Promise<MxRecord[]>;
  /** [] when the name or the records do not exist. */
  a(name: string): Promise<string[]>;
  aaaa(name: string): Promise<string[]>;
  /** Each record's chunks joined into one string. */
  txt(name: string): Promise<string[]>;
  cname(name: string): Promise<string[]>;
  /** The (name, rrtype) => Promise<...> function mailauth expects as its `resolver` option, answering like node's dns.resolve. */
  forMailauth(): (name: string, rrtype: string) => Promise<unknown>;
}

export interface ResolverOptions {
  /** First try's timeout; c-ares doubles it on the retry, capped by maxTimeoutMs. */
  timeoutMs?: number;
  tries?: number;
  maxTimeoutMs?: number;
}

/** Codes that mean the name or the question itself is bad: asking again will not help. */
const PERMANENT_CODES = new Set(['ENOTFOUND', 'EBADNAME', 'EBADQUERY', 'ENONAME', 'EBADFAMILY', 'EBADSTR']);

const CODE_WORDS: Record<string, string> = {
  ENOTFOUND: 'the domain does not exist',
  ETIMEOUT: 'timed out',
  ESERVFAIL: 'the DNS server failed to answer (SERVFAIL)',
  EREFUSED: 'the DNS server refused the query',
  ECONNREFUSED: 'the DNS server could not be reached',
  ECANCELLED: 'the lookup was cancelled',
  EBADNAME: 'the name is not a valid domain name',
};

export class DnsLookupError extends Error {
  /** The c-ares code node reported, e.g. ENOTFOUND, ETIMEOUT, ESERVFAIL. */
  readonly code: string;
  readonly hostname: string;
  readonly rrtype: string;
  /** True when asking again later may succeed (timeouts, SERVFAIL, refused); false for NXDOMAIN. */
  readonly temporary: boolean;
  /** What went wrong in plain words, e.g. "timed out", for messages shown to users. */
  readonly reason: string;

  constructor(hostname: string, rrtype: string, code: string, options?: { cause?: unknown }) {
    const reason = CODE_WORDS[code] ?? `the lookup failed (${code})`;
    super(`DNS ${rrtype} lookup for ${hostname}: ${reason}`, options);
    this.name = 'DnsLookupError';
    this.reason = reason;
    this.code = code;
    this.hostname = hostname;
    this.rrtype = rrtype;
    this.temporary = !PERMANENT_CODES.has(code);
  }
}

export function createResolver(servers: readonly string[] | null, options: ResolverOptions = {}): DnsResolver {
  const resolver = new Resolver({
    timeout: options.timeoutMs ?? 2000,
    tries: options.tries ?? 2,
    maxTimeout: options.maxTimeoutMs ?? 4000,
  });
  if (servers && servers.length > 0) resolver.setServers([...servers]);

  return {
    async mx(name) {
      const records = await lookup(name, 'MX', () => resolver.resolveMx(name), { emptyOnNxdomain: false });
      // A null MX may arrive as "." or "" depending on the resolver library; callers test for "".
      return records.map((r) => ({ exchange: stripDot(r.exchange), priority: r.priority }));
    },
    a: (name) => lookup(name, 'A', () => resolver.resolve4(name)),
    aaaa: (name) => lookup(name, 'AAAA', () => resolver.resolve6(name)),
    async txt(name) {
      const records = await lookup(name, 'TXT', () => resolver.resolveTxt(name));
      return records.map((chunks) => chunks.join(''));
    },
    cname: async (name) => (await lookup(name, 'CNAME', () => resolver.resolveCname(name))).map(stripDot),
    forMailauth() {
      // mailauth reads node's own error codes (ENOTFOUND, ENODATA, ETIMEOUT), so errors pass through untouched.
      return (name, rrtype) => resolver.resolve(name, rrtype);
    },
  };
}

async function lookup<T>(
  name: string,
  rrtype: string,
  query: () => Promise<T[]>,
  { emptyOnNxdomain = true } = {},
): Promise<T[]> {
  try {
    return await query();
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENODATA') return [];
    if (code === 'ENOTFOUND' && emptyOnNxdomain) return [];
    throw new DnsLookupError(name, rrtype, code, { cause: err });
  }
}

function errorCode(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return 'EUNKNOWN';
}

function stripDot(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}
