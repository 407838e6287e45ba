/**
 * A key's scope as a user writes it (API body, CLI flags), checked against
 * the account: senders must be on the account's own domains, the key's limit
 * within the account's, ranges well-formed. Each error names its field.
 */
import { domainToASCII } from 'node:url';
import { UserError } from '../errors.ts';
import { KEY_CHANNELS, formatRange, parseRange, type KeyChannel, type KeyScope } from '../policy/key-scope.ts';
import { isEmailAddress } from '../message/address.ts';

export interface KeyScopeInput {
  from?: readonly string[];
  dailyLimit?: number;
  channel?: string;
  ipRanges?: readonly string[];
  /** An ISO date or date-time; a bare date means the start of that day, UTC. */
  expiresAt?: string;
}

export interface AccountFacts {
  dailyLimit: number;
  /** The account's domains, verified or not (a key may be made before its domain is verified). */
  domains: readonly string[];
}

const invalid = (code: string, message: string, field: string) => new UserError('invalid', code, message, field);

export function scopeFromInput(input: KeyScopeInput, account: AccountFacts, now: number): KeyScope {
  return {
    from: input.from === undefined ? null : senders(input.from, account.domains),
    dailyLimit: input.dailyLimit === undefined ? null : keyLimit(input.dailyLimit, account.dailyLimit),
    channel: channel(input.channel),
    ipRanges: input.ipRanges === undefined ? null : ranges(input.ipRanges),
    expiresAt: input.expiresAt === undefined ? null : expiry(input.expiresAt, now),
  };
}

export function senders(entries: readonly string[], domains: readonly string[]): string[] {
  if (entries.length === 0) throw invalid('invalid_from_scope', 'from: name at least one address or domain, or leave it out for any sender of the account', 'from');
  const out: string[] = [];
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase();
    const isAddress = entry.includes('@');
    if (isAddress ? !isEmailAddress(entry) : !/^[a-z0-9.-]+\.[a-z0-9-]+$/.test(domainToASCII(entry) || '')) {
      throw invalid('invalid_from_scope', `from: "${raw}" is neither an email address nor a domain`, 'from');
    }
    const local = isAddress ? entry.slice(0, entry.lastIndexOf('@') + 1) : '';
    const domain = domainToASCII(isAddress ? entry.slice(entry.lastIndexOf('@') + 1) : entry) || entry;
    if (!domains.includes(domain)) {
      throw invalid('from_outside_account', `from: ${entry} is not on a domain of this account (${domains.join(', ') || 'it has none yet'}); add the domain first`, 'from');
    }
    if (!out.includes(local + domain)) out.push(local + domain);
  }
  return out;
}

export function keyLimit(limit: number, accountLimit: number): number {
  if (!Number.isInteger(limit) || limit < 1) throw invalid('invalid_daily_limit', 'dailyLimit: a key\'s daily limit must be a whole number of at least 1', 'dailyLimit');
  if (limit > accountLimit) throw invalid('invalid_daily_limit', `dailyLimit: a key's daily limit must be within the account's (${accountLimit})`, 'dailyLimit');
  return limit;
}

function channel(value: string | undefined): KeyChannel {
  if (value === undefined) return 'full';
  const found = KEY_CHANNELS.find((c) => c === value);
  if (!found) throw invalid('invalid_channel', `channel: "${value}" is not one of ${KEY_CHANNELS.join(', ')} (smtp: SMTP only; api: sending over the API only; full: both and the whole API)`, 'channel');
  return found;
}

export function ranges(entries: readonly string[]): string[] {
  if (entries.length === 0) throw invalid('invalid_ip_range', 'ipRanges: name at least one range, or leave it out for any client address', 'ipRanges');
  return entries.map((entry, index) => {
    const range = parseRange(entry);
    if (!range) throw invalid('invalid_ip_range', `ipRanges[${index}]: "${entry}" is not an IP address or CIDR range such as 192.0.2.0/24`, 'ipRanges');
    return formatRange(range);
  });
}

function expiry(text: string, now: number): number {
  const at = /^\d{4}-\d{2}-\d{2}$/.test(text) ? Date.parse(`${text}T00:00:00Z`) : Date.parse(text);
  if (Number.isNaN(at)) throw invalid('invalid_expiry', `expiresAt: "${text}" is not a date (2027-01-01) or date-time`, 'expiresAt');
  if (at <= now) throw invalid('invalid_expiry', `expiresAt: ${text} is already past`, 'expiresAt');
  return at;
}
