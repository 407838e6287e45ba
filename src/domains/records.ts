/**
 * The DNS records a user publishes for a sending domain, and the DKIM key behind one of them.
 *
 * Pure functions: the same domain always yields the same records, so the dashboard, the CLI
 * (`domains add`) and verification all show and check exactly the same values.
 */
import { createPublicKey, generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { HOSTNAME_FIX, hostnameProblem } from './server-host.ts';

export type RecordPurpose = 'dkim' | 'spf' | 'return-path' | 'dmarc';

export interface DnsRecordToPublish {
  purpose: RecordPurpose;
  type: 'TXT' | 'CNAME' | 'MX';
  name: string;
  value: string;
  priority?: number;
  /** Set when the record cannot work yet (it points at a server name no one else can look up) and why. */
  warning?: string;
}

export interface SendingDomainDns {
  name: string;
  dkimSelector: string;
  dkimPublicKeyPem: string;
  /** e.g. bounces.example.com: the envelope sender's domain, so bounces come back to us. */
  returnPathDomain: string;
}

export interface DkimKey {
  selector: string;
  privateKeyPem: string;
  publicKeyPem: string;
}

export function recordsToPublish(domain: SendingDomainDns, serverHostname: string): DnsRecordToPublish[] {
  const name = normaliseName(domain.name);
  const host = normaliseName(serverHostname);
  const problem = hostnameProblem(host);
  // Shown next to the value rather than withheld: the user sees what is wrong and the fix.
  const hostWarning = problem ? { warning: `Not usable yet: ${problem}. Fix: ${HOSTNAME_FIX}; the value then changes.` } : {};
  return [
    dkimRecord(name, domain.dkimSelector, domain.dkimPublicKeyPem),
    { purpose: 'spf', type: 'TXT', name, value: `v=spf1 a:${host} ~all`, ...hostWarning },
    // A CNAME rather than an MX: bounces to the return-path reach our MX listener, and SPF
    // checks of the envelope domain follow the CNAME to our host's own SPF record.
    { purpose: 'return-path', type: 'CNAME', name: normaliseName(domain.returnPathDomain), value: host, ...hostWarning },
    // Aggregate reports come to our mx role, at an address on the return-path domain: a subdomain
    // of the domain, so receivers need no authorisation record for an outside report address (RFC 7489 7.1).
    { purpose: 'dmarc', type: 'TXT', name: `_dmarc.${name}`, value: `v=DMARC1; p=none; rua=mailto:${dmarcReportAddress(domain.returnPathDomain)}` },
  ];
}

/** The local part of the address DMARC aggregate reports are sent to, on the return-path domain. */
export const DMARC_REPORT_LOCAL_PART = 'dmarc';

export function dmarcReportAddress(returnPathDomain: string): string {
  return `${DMARC_REPORT_LOCAL_PART}@${normaliseName(returnPathDomain)}`;
}

/** The DKIM key's TXT record: `<selector>._domainkey.<domain>`. */
export function dkimRecord(domain: string, selector: string, publicKeyPem: string): DnsRecordToPublish {
  return {
    purpose: 'dkim',
    type: 'TXT',
    name: `${normaliseName(selector)}._domainkey.${normaliseName(domain)}`,
    value: `v=DKIM1; k=rsa; p=${dkimPublicKeyBase64(publicKeyPem)}`,
  };
}

/** The `p=` value: base64 of the SPKI DER key, without PEM armour or line breaks. */
export function dkimPublicKeyBase64(publicKeyPem: string): string {
  return createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' }).toString('base64');
}

const generateRsaKeyPair = promisify(generateKeyPair);

/** A fresh 2048-bit RSA key; the selector names the month so a rotated key gets a new DNS name. */
export async function generateDkimKey(now: Date = new Date()): Promise<DkimKey> {
  const { privateKey, publicKey } = await generateRsaKeyPair('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const month = String(now.getUTCMonth() + 1).padStart(2, '0');
  return { selector: `mr${now.getUTCFullYear()}${month}`, privateKeyPem: privateKey, publicKeyPem: publicKey };
}

function normaliseName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}
