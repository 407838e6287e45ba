/**
 * Checks the published DNS records of a sending domain against what we asked the user to publish.
 *
 * The rules are written for DNS as users really edit it: providers split long TXT values into
 * chunks, add whitespace, reorder DKIM tags and keep other TXT records at the same name. Each
 * failed check carries one sentence saying what is wrong and what to do, never a stack trace.
 */
import { DnsLookupError, type DnsResolver } from '../dns/resolver.ts';
import type { DnsRecordToPublish, RecordPurpose } from './records.ts';

export interface RecordCheck {
  /** server-host: the name the records point at resolves (advisory, see server-host.ts). */
  purpose: RecordPurpose | 'server-host';
  type: DnsRecordToPublish['type'] | 'A';
  name: string;
  expected: string;
  /** What DNS holds at the name now (for SPF only the v=spf1 records). */
  found: string[];
  ok: boolean;
  error?: string;
}

/** DMARC is advisory: a domain sends without it, so it does not block verification. */
const REQUIRED: readonly RecordCheck['purpose'][] = ['dkim', 'spf', 'return-path'];

export async function checkDomainRecords(records: DnsRecordToPublish[], resolver: DnsResolver): Promise<RecordCheck[]> {
  return Promise.all(records.map((record) => checkRecord(record, resolver)));
}

export function isVerified(checks: RecordCheck[]): boolean {
  return REQUIRED.every((purpose) => {
    const forPurpose = checks.filter((c) => c.purpose === purpose);
    return forPurpose.length > 0 && forPurpose.every((c) => c.ok);
  });
}

/** Checks that failed only because DNS did not answer (timeout, SERVFAIL): they say nothing about the records. */
const unanswered = new WeakSet<RecordCheck>();

/**
 * True when every required record that failed did so only because DNS did not answer. A
 * verified domain checked at such a moment keeps its verification: a resolver hiccup must not
 * stop an account's mail.
 */
/** The checks that failed on an answer from DNS (the record is missing or wrong), not for lack of one. */
export function failedOnAnswer(checks: RecordCheck[]): RecordCheck[] {
  return checks.filter((c) => !c.ok && !unanswered.has(c));
}

/** Whether the purpose is needed for sending (DMARC is advisory). */
export function isRequired(purpose: RecordCheck['purpose']): boolean {
  return REQUIRED.includes(purpose);
}

export function failedOnlyForLackOfAnswer(checks: RecordCheck[]): boolean {
  const failed = checks.filter((c) => REQUIRED.includes(c.purpose) && !c.ok);
  return failed.length > 0 && failed.every((c) => unanswered.has(c));
}

interface RecordLookup {
  found: string[];
  error?: string;
}

async function checkRecord(record: DnsRecordToPublish, resolver: DnsResolver): Promise<RecordCheck> {
  const base = { purpose: record.purpose, type: record.type, name: record.name, expected: record.value };
  try {
    const lookup = await judge(record, resolver);
    return { ...base, ...lookup, ok: lookup.error === undefined };
  } catch (err) {
    const check = { ...base, found: [], ok: false, error: lookupFailure(record, err) };
    if (!(err instanceof DnsLookupError) || err.temporary) unanswered.add(check);
    return check;
  }
}

function judge(record: DnsRecordToPublish, resolver: DnsResolver): Promise<RecordLookup> {
  if (record.purpose === 'dkim') return checkDkim(record, resolver);
  if (record.purpose === 'spf') return checkSpf(record, resolver);
  if (record.purpose === 'dmarc') return checkDmarc(record, resolver);
  return record.type === 'MX' ? checkMxTarget(record, resolver) : checkCnameTarget(record, resolver);
}

async function checkDkim(record: DnsRecordToPublish, resolver: DnsResolver): Promise<RecordLookup> {
  const found = await resolver.txt(record.name);
  if (found.length === 0) return { found, error: `No TXT record found at ${record.name} — publish the value shown.` };
  const wanted = dkimTag(record.value, 'p');
  if (found.some((txt) => wanted !== null && dkimTag(txt, 'p') === wanted)) return { found };
  const hasKey = found.some((txt) => dkimTag(txt, 'p') !== null);
  return {
    found,
    error: hasKey
      ? `The DKIM key published at ${record.name} is not this domain's key — replace it with the value shown.`
      : `The TXT record at ${record.name} holds no DKIM key (p=) — publish the value shown.`,
  };
}

async function checkSpf(record: DnsRecordToPublish, resolver: DnsResolver): Promise<RecordLookup> {
  const found = (await resolver.txt(record.name)).filter(isSpfRecord);
  if (found.length === 0) {
    return { found, error: `No SPF record (v=spf1) found at ${record.name} — publish the value shown.` };
  }
  if (found.length > 1) {
    return { found, error: `Multiple SPF records at ${record.name}; merge them into one (receivers treat two as an error).` };
  }
  const host = /\ba:(\S+)/i.exec(record.value)?.[1];
  if (host === undefined || authorisesHost(found[0], host)) return { found };
  return { found, error: `The SPF record at ${record.name} does not authorise ${host} — add "a:${host}" before its "all".` };
}

async function checkDmarc(record: DnsRecordToPublish, resolver: DnsResolver): Promise<RecordLookup> {
  const found = await resolver.txt(record.name);
  if (found.some((txt) => /^v\s*=\s*DMARC1\s*(;|$)/i.test(txt.trim()))) return { found };
  return { found, error: `No DMARC record found at ${record.name} (optional, recommended) — publish the value shown.` };
}

async function checkCnameTarget(record: DnsRecordToPublish, resolver: DnsResolver): Promise<RecordLookup> {
  const found = await resolver.cname(record.name);
  if (found.some((target) => sameHost(target, record.value))) return { found };
  if (found.length === 0) {
    return { found, error: `No CNAME record found at ${record.name} — point it to ${record.value}.` };
  }
  return { found, error: `The CNAME at ${record.name} points to ${found.join(', ')}, not ${record.value} — change it.` };
}

async function checkMxTarget(record: DnsRecordToPublish, resolver: DnsResolver): Promise<RecordLookup> {
  const found = (await resolver.mx(record.name)).map((mx) => mx.exchange);
  if (found.some((exchange) => sameHost(exchange, record.value))) return { found };
  return { found, error: `No MX record at ${record.name} points to ${record.value} — publish the value shown.` };
}

/** The value of one DKIM tag, whitespace removed (RFC 6376 allows folding whitespace anywhere in it). */
function dkimTag(txt: string, tag: string): string | null {
  for (const part of txt.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim().toLowerCase() === tag) return part.slice(eq + 1).replace(/\s+/g, '');
  }
  return null;
}

function isSpfRecord(txt: string): boolean {
  return /^v=spf1(\s|$)/i.test(txt.trim());
}

function authorisesHost(spf: string, host: string): boolean {
  return spf
    .trim()
    .split(/\s+/)
    .some((term) => {
      const m = /^[+]?(a|include):(.+)$/i.exec(term);
      return m !== null && sameHost(m[2], host);
    });
}

function sameHost(a: string, b: string): boolean {
  const norm = (s: string) => s.trim().toLowerCase().replace(/\.$/, '');
  return norm(a) === norm(b);
}

function lookupFailure(record: DnsRecordToPublish, err: unknown): string {
  if (err instanceof DnsLookupError) {
    if (err.code === 'ETIMEOUT') return `DNS lookup of ${record.name} timed out — try again in a few minutes.`;
    const retry = err.temporary ? ' — try again in a few minutes' : '';
    return `DNS lookup of ${record.name} failed: ${err.reason}${retry}.`;
  }
  return `DNS lookup of ${record.name} failed unexpectedly — try again in a few minutes.`;
}
