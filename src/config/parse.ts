/**
 * Parsers for configuration values. Each returns the typed value or throws a
 * plain-words reason; the loader adds which variable and value were at fault.
 */
import { isIP } from 'node:net';

const SIZE_UNITS: Record<string, number> = { '': 1, B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parsePort(raw: string): number {
  if (!/^\d+$/.test(raw)) throw new Error('must be a port number (0-65535)');
  const port = Number(raw);
  if (port > 65535) throw new Error('must be a port number (0-65535)');
  return port;
}

/** A port, or null when the listener is switched off with `off`. */
export function parseOptionalPort(raw: string): number | null {
  if (raw.toLowerCase() === 'off') return null;
  return parsePort(raw);
}

export function parseBoolean(raw: string): boolean {
  const value = raw.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw new Error('must be true or false');
}

/** 0 or more. */
export function parseCount(raw: string): number {
  const text = raw.trim();
  if (!/^\d+$/.test(text)) throw new Error('must be a whole number, 0 or more');
  return Number(text);
}

export function parsePositiveInteger(raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new Error('must be a whole number of at least 1');
  return Number(raw);
}

export function parseSize(raw: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?$/i.exec(raw.trim());
  if (!match) throw new Error('must be a size such as 25MB, 512KB or 1048576');
  const bytes = Math.floor(Number(match[1]) * SIZE_UNITS[(match[2] ?? '').toUpperCase()]);
  if (bytes < 1024) throw new Error('must be at least 1KB');
  return bytes;
}

export function parseDuration(raw: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(raw.trim());
  if (!match) throw new Error('must be a duration such as 30s, 5m, 2h or 5d');
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2]]);
}

/** A duration, or `off` (0). */
export function parseOptionalDuration(raw: string): number {
  return raw.trim().toLowerCase() === 'off' ? 0 : parseDuration(raw);
}

export function parseDurationList(raw: string): number[] {
  const items = raw.split(',').map((item) => item.trim()).filter(Boolean);
  if (items.length === 0) throw new Error('must list at least one duration, e.g. 5m,10m,1h');
  return items.map(parseDuration);
}

export interface HostPort {
  host: string;
  port: number;
}

/** `host`, `host:port`, `[v6]:port` or a bare IPv6 address; a port that is not a number is refused, not folded into the host. */
export function parseHostPort(raw: string, defaultPort: number): HostPort {
  const text = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracketed) return { host: bracketed[1], port: bracketed[2] === undefined ? defaultPort : parsePort(bracketed[2]) };
  if (isIP(text) === 6) return { host: text, port: defaultPort };
  const colon = text.lastIndexOf(':');
  const host = colon === -1 ? text : text.slice(0, colon);
  if (host === '' || host.includes(':') || /\s/.test(host)) throw new Error('must be host or host:port');
  return { host, port: colon === -1 ? defaultPort : parsePort(text.slice(colon + 1)) };
}

export function parseOptionalHostPort(raw: string, defaultPort: number): HostPort | null {
  if (raw.toLowerCase() === 'off' || raw === '') return null;
  return parseHostPort(raw, defaultPort);
}

/** `ip[:port],…`; an IPv6 address with a port is written `[::1]:53`. */
export function parseDnsServers(raw: string): string[] | null {
  if (raw.toLowerCase() === 'system' || raw.trim() === '') return null;
  return raw.split(',').map((item) => {
    const { host, port } = parseHostPort(item, 53);
    if (isIP(host) === 0) throw new Error(`"${item.trim()}" is not an IP address`);
    return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  });
}

export function parseDatabaseUrl(raw: string): string {
  if (raw.startsWith('sqlite:')) {
    if (raw.slice('sqlite:'.length).trim() === '') throw new Error('sqlite:PATH needs a file path, e.g. sqlite:./data/mailroom.db');
    return raw;
  }
  if (/^postgres(ql)?:\/\//.test(raw)) return raw;
  throw new Error('must be sqlite:PATH or postgres://user@host:port/database');
}

export function parseHostname(raw: string): string {
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(raw)) {
    throw new Error('must be a host name such as mail.example.com');
  }
  return raw.toLowerCase();
}

export function parseRoles(raw: string): Role[] {
  const roles = raw.split(',').map((role) => role.trim().toLowerCase()).filter(Boolean);
  for (const role of roles) {
    if (!ROLES.includes(role as Role)) throw new Error(`unknown role "${role}" (roles: ${ROLES.join(', ')})`);
  }
  if (roles.length === 0) throw new Error(`must name at least one role (${ROLES.join(', ')})`);
  return [...new Set(roles)] as Role[];
}

export const ROLES = ['smtp', 'http', 'delivery', 'mx'] as const;
export type Role = (typeof ROLES)[number];

export function parseText(raw: string): string {
  return raw;
}

export function parseOptionalText(raw: string): string | null {
  return raw === '' || raw.toLowerCase() === 'off' ? null : raw;
}
