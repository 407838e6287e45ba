/**
 * Reads one DMARC aggregate report (RFC 7489 appendix C): who reported, for which period and
 * published policy, and per row the sending IP, how many messages, what the receiver did with
 * them and whether DKIM and SPF passed *aligned* with the From domain (policy_evaluated) — the
 * figures the owner of the domain acts on.
 *
 * fast-xml-parser does the XML. Reports need no DTD, so a document that declares one is refused
 * before parsing: entity declarations are how an XML "billion laughs" gets in.
 */
import { isIP } from 'node:net';
import { XMLParser } from 'fast-xml-parser';

export type AlignedResult = 'pass' | 'fail';

export interface DmarcReportRow {
  sourceIp: string;
  count: number;
  /** What the receiver did: none, quarantine or reject. */
  disposition: string;
  /** policy_evaluated: DKIM and SPF as DMARC counts them, i.e. aligned with the From domain. */
  dkim: AlignedResult;
  spf: AlignedResult;
  headerFrom: string;
  envelopeFrom: string | null;
  /** auth_results: the raw checks behind the aligned verdicts, for the curious. */
  dkimResults: Array<{ domain: string; selector: string | null; result: string }>;
  spfResults: Array<{ domain: string; scope: string | null; result: string }>;
}

export interface DmarcReport {
  orgName: string;
  orgEmail: string | null;
  reportId: string;
  /** The period the report covers (epoch ms). */
  begin: number;
  end: number;
  policy: { domain: string; p: string; sp: string | null; pct: number | null; adkim: string | null; aspf: string | null };
  rows: DmarcReportRow[];
}

export class DmarcReportError extends Error {}

const MAX_ROWS = 100_000;

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  removeNSPrefix: true,
  isArray: (name) => ['record', 'dkim', 'spf', 'reason', 'error'].includes(name),
});

export function parseDmarcReport(xml: string): DmarcReport {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new DmarcReportError('the report declares a DTD or entities, which DMARC reports never need');
  let document: any;
  try {
    document = parser.parse(xml, true);
  } catch (error) {
    throw new DmarcReportError(`the report is not well-formed XML: ${(error as Error).message ?? error}`);
  }
  const feedback = document?.feedback;
  if (!isObject(feedback)) throw new DmarcReportError('the report has no <feedback> element');
  const metadata = objectAt(feedback, 'report_metadata');
  const range = objectAt(metadata, 'date_range');
  const published = objectAt(feedback, 'policy_published');
  const records: unknown[] = Array.isArray(feedback.record) ? feedback.record : [];
  if (records.length > MAX_ROWS) throw new DmarcReportError(`the report has ${records.length} records; at most ${MAX_ROWS} are read`);
  const begin = seconds(range, 'begin');
  const end = seconds(range, 'end');
  if (end < begin) throw new DmarcReportError('the report\'s date range ends before it begins');
  return {
    orgName: text(metadata, 'org_name'),
    orgEmail: optionalText(metadata, 'email'),
    reportId: text(metadata, 'report_id'),
    begin,
    end,
    policy: {
      domain: text(published, 'domain').toLowerCase(),
      p: text(published, 'p').toLowerCase(),
      sp: optionalText(published, 'sp')?.toLowerCase() ?? null,
      pct: optionalText(published, 'pct') === null ? null : integer(published, 'pct'),
      adkim: optionalText(published, 'adkim')?.toLowerCase() ?? null,
      aspf: optionalText(published, 'aspf')?.toLowerCase() ?? null,
    },
    rows: records.map((record, index) => rowOf(record, index)),
  };
}

function rowOf(record: unknown, index: number): DmarcReportRow {
  const where = `record ${index + 1}`;
  if (!isObject(record)) throw new DmarcReportError(`${where} is empty`);
  const row = objectAt(record, 'row', where);
  const evaluated = objectAt(row, 'policy_evaluated', where);
  const identifiers = objectAt(record, 'identifiers', where);
  const sourceIp = text(row, 'source_ip', where);
  if (isIP(sourceIp) === 0) throw new DmarcReportError(`${where}: source_ip "${sourceIp}" is not an IP address`);
  const auth = isObject(record.auth_results) ? record.auth_results : {};
  return {
    sourceIp,
    count: integer(row, 'count', where),
    disposition: text(evaluated, 'disposition', where).toLowerCase(),
    dkim: aligned(evaluated, 'dkim', where),
    spf: aligned(evaluated, 'spf', where),
    headerFrom: text(identifiers, 'header_from', where).toLowerCase(),
    envelopeFrom: optionalText(identifiers, 'envelope_from')?.toLowerCase() ?? null,
    dkimResults: arrayAt(auth, 'dkim').map((d) => ({ domain: optionalText(d, 'domain') ?? '', selector: optionalText(d, 'selector'), result: (optionalText(d, 'result') ?? '').toLowerCase() })),
    spfResults: arrayAt(auth, 'spf').map((s) => ({ domain: optionalText(s, 'domain') ?? '', scope: optionalText(s, 'scope'), result: (optionalText(s, 'result') ?? '').toLowerCase() })),
  };
}

function aligned(parent: Record<string, unknown>, name: 'dkim' | 'spf', where: string): AlignedResult {
  // isArray makes <dkim> a list everywhere; in policy_evaluated there is exactly one.
  const value = arrayAt(parent, name)[0];
  const result = typeof value === 'string' ? value.toLowerCase() : '';
  if (result !== 'pass' && result !== 'fail') throw new DmarcReportError(`${where}: policy_evaluated ${name} is "${result}", not pass or fail`);
  return result;
}

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objectAt(parent: Record<string, unknown>, name: string, where = 'the report'): Record<string, any> {
  const value = parent[name];
  if (!isObject(value)) throw new DmarcReportError(`${where} has no <${name}>`);
  return value;
}

function arrayAt(parent: Record<string, unknown>, name: string): any[] {
  const value = parent[name];
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

function optionalText(parent: unknown, name: string): string | null {
  if (!isObject(parent)) return null;
  const value = parent[name];
  return typeof value === 'string' && value !== '' ? value : null;
}

function text(parent: Record<string, unknown>, name: string, where = 'the report'): string {
  const value = optionalText(parent, name);
  if (value === null) throw new DmarcReportError(`${where} has no <${name}>`);
  if (value.length > 1000) throw new DmarcReportError(`${where}: <${name}> is longer than 1000 characters`);
  return value;
}

function integer(parent: Record<string, unknown>, name: string, where = 'the report'): number {
  const value = text(parent, name, where);
  if (!/^\d{1,12}$/.test(value)) throw new DmarcReportError(`${where}: <${name}> is "${value}", not a whole number`);
  return Number(value);
}

function seconds(parent: Record<string, unknown>, name: string): number {
  return integer(parent, name, 'the date range') * 1000;
}
