/**
 * The one place that turns what a remote server (or the network) said into a Classification:
 * deferred (try again later) or bounced (give up, with a reason). The knowledge of specific
 * replies lives in reply-rules.ts; this file only applies it, then RFC 5321's basic rule.
 */
import type { Classification } from './verdict.ts';
import { REPLY_RULES } from './reply-rules.ts';

export interface ParsedReply {
  code: number;
  /** RFC 3463 enhanced status code, e.g. '5.1.1', when the reply carries one. */
  enhanced: string | undefined;
  /** The human text, continuation lines joined with spaces and their codes stripped. */
  text: string;
}

const REPLY_LINE = /^(\d{3})(?:[ -](.*))?$/;
const ENHANCED = /^([245]\.\d{1,3}\.\d{1,3})(?:\s+|$)/;

/** Splits a raw (possibly multi-line) SMTP reply into code, enhanced code and text. */
export function parseReply(reply: string): ParsedReply {
  const lines = reply.trim().split(/\r?\n/);
  let code = 0;
  let enhanced: string | undefined;
  const texts: string[] = [];
  for (const [i, line] of lines.entries()) {
    const m = REPLY_LINE.exec(line.trim());
    let rest = m ? (m[2] ?? '') : line.trim();
    if (i === 0 && m) code = Number(m[1]);
    const e = ENHANCED.exec(rest);
    if (e) {
      if (i === 0) enhanced = e[1];
      rest = rest.slice(e[0].length);
    }
    if (rest) texts.push(rest);
  }
  return { code, enhanced, text: texts.join(' ') };
}

/** Decides a failed reply: the first matching rule of the table, else the basic rule. */
export function classifyReply(code: number, enhanced: string | undefined, text: string): Classification {
  const enh = enhanced ?? ENHANCED.exec(text)?.[1] ?? '';
  const codeText = String(code);
  for (const rule of REPLY_RULES) {
    if (rule.code && !rule.code.test(codeText)) continue;
    if (rule.enhanced && !rule.enhanced.test(enh)) continue;
    if (rule.text && !rule.text.test(text)) continue;
    return { ...rule.verdict, rule: rule.id };
  }
  if (code >= 400 && code < 500) return { kind: 'deferred', rule: 'basic-4xx' };
  if (code >= 500 && code < 600) return { kind: 'bounced', rule: 'basic-5xx', bounceClass: 'other' };
  // Not a failure code at all (or none): a confused peer, which is worth another try.
  return { kind: 'deferred', rule: 'unexpected-reply' };
}

/** classifyReply for a raw reply string. */
export function classifyRawReply(reply: string): Classification {
  const parsed = parseReply(reply);
  return classifyReply(parsed.code, parsed.enhanced, parsed.text);
}

interface ErrorLike {
  message?: unknown;
  code?: unknown;
  originalCode?: unknown;
  response?: unknown;
  command?: unknown;
  temporary?: unknown;
  timeoutType?: unknown;
}

// Network failures by (Node or nodemailer) error code: all of them deferred, since a refused
// or dropped connection says nothing about the recipient. Only the wording differs.
const NETWORK_ERRORS: Record<string, { rule: string; label: string }> = {
  ECONNREFUSED: { rule: 'connection-refused', label: 'connection refused' },
  ETIMEDOUT: { rule: 'timeout', label: 'timed out' },
  ETLS: { rule: 'tls-failed', label: 'TLS negotiation failed' },
  ECONNRESET: { rule: 'connection-lost', label: 'connection reset' },
  EPIPE: { rule: 'connection-lost', label: 'connection lost' },
  ECONNECTION: { rule: 'connection-lost', label: 'connection lost' },
  EHOSTUNREACH: { rule: 'unreachable', label: 'host unreachable' },
  ENETUNREACH: { rule: 'unreachable', label: 'network unreachable' },
  EADDRNOTAVAIL: { rule: 'unreachable', label: 'address not available' },
  EPROTOCOL: { rule: 'protocol-error', label: 'SMTP protocol error' },
};

/**
 * Decides a failure that is not (only) a reply to a command: a socket error, a timeout, a TLS
 * failure, a DNS error from our resolver, or a nodemailer error that carries the reply that
 * ended the session (a 421 greeting, a 5xx to EHLO). `reply` is what the attempt records:
 * the server's words when it said something, otherwise our description.
 */
export function classifySocketError(err: unknown): Classification & { reply: string } {
  const e: ErrorLike = typeof err === 'object' && err !== null ? (err as ErrorLike) : { message: String(err) };
  const message = typeof e.message === 'string' ? e.message : String(err);

  if (typeof e.temporary === 'boolean') {
    // DnsLookupError from src/dns/resolver.ts: NXDOMAIN is an answer, SERVFAIL/timeouts are not.
    const reply = `DNS lookup failed: ${message}`;
    return e.temporary
      ? { kind: 'deferred', rule: 'dns-temporary', reply }
      : { kind: 'bounced', rule: 'dns-nxdomain', bounceClass: 'no-mx', reply };
  }

  if (typeof e.response === 'string' && /^\d{3}/.test(e.response.trim())) {
    const reply = e.response.trim();
    // A smarthost refusing our credentials is an operator's mistake to fix, not the recipient's.
    if (e.code === 'EAUTH') return { kind: 'deferred', rule: 'relay-auth-failed', reply };
    return { ...classifyRawReply(reply), reply };
  }
  if (e.code === 'EAUTH' || e.code === 'ENOAUTH') {
    return { kind: 'deferred', rule: 'relay-auth-failed', reply: `authentication with the relay failed: ${message}` };
  }

  const codes = [e.originalCode, e.code].filter((c): c is string => typeof c === 'string');
  for (const code of codes) {
    const known = NETWORK_ERRORS[code];
    if (known) return { kind: 'deferred', rule: known.rule, reply: `${known.label} (${message})` };
  }
  return { kind: 'deferred', rule: 'network-error', reply: `delivery failed: ${message}` };
}
