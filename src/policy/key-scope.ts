/**
 * What one secret key may do, decided without I/O: which door it may use
 * (SMTP, sending over the API, the whole API), from which client addresses,
 * until when, and which senders it may send as. A key without a scope (every
 * key made before scopes existed) may do everything its account may.
 */
import ipaddr from 'ipaddr.js';
import { ACCEPT, refuse, type ScopeHolder, type Verdict } from './refusal.ts';

/** smtp: SMTP only; api: POST /api/v1/messages only; full: SMTP and the whole API. */
export type KeyChannel = 'full' | 'smtp' | 'api';
export const KEY_CHANNELS: readonly KeyChannel[] = ['full', 'smtp', 'api'];

export interface KeyScope {
  /** Addresses (`a@x.com`) and whole domains (`y.com`), lower case; null: any sender of the account. */
  from: readonly string[] | null;
  dailyLimit: number | null;
  channel: KeyChannel;
  /** CIDR ranges; null: any client address. */
  ipRanges: readonly string[] | null;
  expiresAt: number | null;
}

export const FULL_SCOPE: KeyScope = { from: null, dailyLimit: null, channel: 'full', ipRanges: null, expiresAt: null };

/** Which door a request came through: SMTP, the sending endpoint of the API, or any other API route. */
export type Door = 'smtp' | 'api-send' | 'api';

export type KeyUseRefusal =
  | { kind: 'key-expired'; at: number }
  | { kind: 'key-wrong-channel'; channel: KeyChannel }
  | { kind: 'key-ip-not-allowed'; ip: string; ranges: readonly string[] };

/** May this key be used at all, through this door, from this address, now? null: yes. */
export function checkKeyUse(scope: KeyScope, door: Door, ip: string, now: number): KeyUseRefusal | null {
  if (scope.expiresAt !== null && now >= scope.expiresAt) return { kind: 'key-expired', at: scope.expiresAt };
  const allowed = scope.channel === 'full' || (scope.channel === 'smtp' ? door === 'smtp' : door === 'api-send');
  if (!allowed) return { kind: 'key-wrong-channel', channel: scope.channel };
  if (scope.ipRanges !== null && !ipInRanges(ip, scope.ipRanges)) return { kind: 'key-ip-not-allowed', ip, ranges: scope.ipRanges };
  return null;
}

/** May this key (or device) send as this address (envelope or header From)? The account's own domain rules apply as well. */
export function checkScopedSender(scope: KeyScope, address: string, holder: ScopeHolder = 'key'): Verdict {
  if (scope.from === null) return ACCEPT;
  const lower = address.toLowerCase();
  const domain = lower.slice(lower.lastIndexOf('@') + 1);
  if (scope.from.some((entry) => (entry.includes('@') ? entry === lower : entry === domain))) return ACCEPT;
  return refuse({ kind: 'sender-outside-key-scope', holder, address: lower, allowed: scope.from });
}

/** Parses one CIDR range (a bare address is its own /32 or /128); null when malformed. */
export function parseRange(text: string): [ipaddr.IPv4 | ipaddr.IPv6, number] | null {
  const trimmed = text.trim();
  try {
    const [address, bits] = trimmed.includes('/') ? ipaddr.parseCIDR(trimmed) : ((parsed) => [parsed, parsed.kind() === 'ipv4' ? 32 : 128] as const)(ipaddr.parse(trimmed));
    // ::ffff:192.0.2.0/120 is 192.0.2.0/24: one form, so overlaps and matches are found either way.
    if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) return [(address as ipaddr.IPv6).toIPv4Address(), bits - 96];
    return [address, bits];
  } catch {
    return null;
  }
}

/** The canonical text of a range, so equal ranges compare equal. */
export function formatRange([address, bits]: [ipaddr.IPv4 | ipaddr.IPv6, number]): string {
  const network = address.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(`${address}/${bits}`) : ipaddr.IPv6.networkAddressFromCIDR(`${address}/${bits}`);
  return `${network.toString()}/${bits}`;
}

export function ipInRanges(ip: string, ranges: readonly string[]): boolean {
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // Dual-stack sockets report IPv4 clients as ::ffff:a.b.c.d.
    address = ipaddr.process(ip);
  } catch {
    return false;
  }
  return ranges.some((text) => {
    const range = parseRange(text);
    return range !== null && range[0].kind() === address.kind() && address.match(range as [never, number]);
  });
}

/** Do two ranges share any address? (CIDR ranges either nest or are disjoint.) */
export function rangesOverlap(a: string, b: string): boolean {
  const left = parseRange(a);
  const right = parseRange(b);
  if (!left || !right || left[0].kind() !== right[0].kind()) return false;
  const [narrow, wide] = left[1] >= right[1] ? [left, right] : [right, left];
  return narrow[0].match(wide as [never, number]);
}

/** The scope in words, for refusals: "a@x.com or any address at y.com". */
export function describeSenders(from: readonly string[]): string {
  const words = from.map((entry) => (entry.includes('@') ? entry : `any address at ${entry}`));
  return words.length <= 1 ? (words[0] ?? 'nobody') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}
