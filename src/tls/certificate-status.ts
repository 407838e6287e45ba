/**
 * What a user needs to know about the certificate our TLS listeners present,
 * and above all whether Gmail will accept it: Gmail's "Send mail as" refuses a
 * self-signed certificate, one from an authority it does not know, an expired
 * one, and one that is not for the host name the user typed.
 *
 * "Trusted" is judged against the roots this process trusts (Node's public
 * roots plus NODE_EXTRA_CA_CERTS), which stand in for Gmail's.
 */
import { X509Certificate } from 'node:crypto';
import { getCACertificates } from 'node:tls';
import type { Store } from '../store/database.ts';
import { readStoredCertificate } from './certificate-store.ts';
import { splitPemChain } from './pem.ts';

export interface CertificateStatus {
  /** The subject's common name (or the whole subject when it has none). */
  subject: string;
  /** The issuer's organisation and common name, as a person would name it. */
  issuer: string;
  /** Every DNS name the certificate covers. */
  names: string[];
  validFrom: string;
  validTo: string;
  daysLeft: number;
  selfSigned: boolean;
  /** The chain leads to a root this server trusts. */
  trusted: boolean;
  /** The certificate covers `host`, the SMTP server shown to the user. */
  nameMatches: boolean;
  expired: boolean;
  gmailAccepts: boolean;
  /** Why Gmail would refuse it, in plain words; empty when it accepts it. */
  problems: string[];
}

/**
 * The status of the certificate clients of MAILROOM_HOSTNAME get: this node's
 * live one when it has TLS listeners (`served`, from RunningMailroom.certificates),
 * else the one in the store (an HTTP-only node); null when there is neither.
 */
export async function currentCertificateStatus(store: Store, host: string, served?: { current(): { cert: string } } | null): Promise<CertificateStatus | null> {
  const cert = served?.current().cert ?? (await readStoredCertificate(store, host))?.cert_pem ?? null;
  return cert ? certificateStatus({ cert, host }) : null;
}

export interface CertificateStatusInput {
  /** PEM: the leaf first, then any intermediates (as ACME issues it). */
  cert: string;
  host: string;
  now?: number;
  /** Extra trusted roots (tests with a private CA); the public roots always count. */
  caCerts?: string | readonly string[];
}

const DAY_MS = 24 * 60 * 60 * 1000;

export function certificateStatus(input: CertificateStatusInput): CertificateStatus {
  const now = input.now ?? Date.now();
  const chain = splitPemChain(input.cert).map((pem) => new X509Certificate(pem));
  const leaf = chain[0];
  if (!leaf) throw new Error('no certificate in the PEM text');
  const notBefore = Date.parse(leaf.validFrom);
  const notAfter = Date.parse(leaf.validTo);
  const selfSigned = isSelfSigned(leaf);
  const trusted = !selfSigned && chainIsTrusted(chain, trustedRoots(input.caCerts));
  const nameMatches = leaf.checkHost(input.host) !== undefined;
  const expired = now > notAfter;
  const notYetValid = now < notBefore;
  const names = dnsNames(leaf);
  const issuer = readableName(leaf.issuer);

  const problems: string[] = [];
  if (selfSigned) {
    problems.push('The certificate is self-signed: Gmail and most mail clients refuse it. Set MAILROOM_ACME_EMAIL to get one from Let\'s Encrypt, or set MAILROOM_TLS_CERT and MAILROOM_TLS_KEY to a certificate from a public authority.');
  } else if (!trusted) {
    problems.push(`The certificate is signed by ${issuer}, which is not an authority Gmail trusts, or the file lacks the intermediate certificate that links it to one.`);
  }
  if (!nameMatches) {
    problems.push(`The certificate is for ${names.length > 0 ? names.join(', ') : readableName(leaf.subject)}, not for ${input.host}: clients connecting to ${input.host} refuse it.`);
  }
  if (expired) problems.push(`The certificate expired on ${new Date(notAfter).toISOString()}.`);
  if (notYetValid) problems.push(`The certificate is not valid before ${new Date(notBefore).toISOString()}.`);

  return {
    subject: commonName(leaf.subject) ?? leaf.subject.replaceAll('\n', ', '),
    issuer,
    names,
    validFrom: new Date(notBefore).toISOString(),
    validTo: new Date(notAfter).toISOString(),
    daysLeft: Math.floor((notAfter - now) / DAY_MS),
    selfSigned,
    trusted,
    nameMatches,
    expired,
    gmailAccepts: problems.length === 0,
    problems,
  };
}

/** Signed by its own key. (Not checkIssued: OpenSSL's check also wants keyCertSign, which a self-signed leaf often lacks.) */
export function isSelfSigned(cert: X509Certificate): boolean {
  return cert.subject === cert.issuer && cert.verify(cert.publicKey);
}

/** Walks from the leaf through the intermediates it was sent with until a trusted root signed one of them. */
function chainIsTrusted(chain: X509Certificate[], roots: X509Certificate[]): boolean {
  let current = chain[0];
  for (let depth = 0; depth < 10; depth++) {
    if (roots.some((root) => signedBy(current, root))) return true;
    const next = chain.find((candidate) => candidate !== current && signedBy(current, candidate));
    if (!next) return false;
    current = next;
  }
  return false;
}

function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

// Parsing Node's ~150 roots takes a few milliseconds; they do not change while the process runs.
let defaultRoots: X509Certificate[] | null = null;

function trustedRoots(extra: CertificateStatusInput['caCerts']): X509Certificate[] {
  defaultRoots ??= getCACertificates('default').map((pem) => new X509Certificate(pem));
  const extraPems = extra === undefined ? [] : (typeof extra === 'string' ? [extra] : [...extra]).flatMap(splitPemChain);
  return [...defaultRoots, ...extraPems.map((pem) => new X509Certificate(pem))];
}

function dnsNames(cert: X509Certificate): string[] {
  const names = (cert.subjectAltName ?? '').split(', ').filter((entry) => entry.startsWith('DNS:')).map((entry) => entry.slice(4));
  const cn = commonName(cert.subject);
  return names.length > 0 ? names : cn ? [cn] : [];
}

function commonName(distinguishedName: string): string | undefined {
  return distinguishedName.split('\n').find((part) => part.startsWith('CN='))?.slice(3);
}

/** "Let's Encrypt (R11)" from O=Let's Encrypt, CN=R11. */
function readableName(distinguishedName: string): string {
  const parts = distinguishedName.split('\n');
  const organisation = parts.find((part) => part.startsWith('O='))?.slice(2);
  const cn = commonName(distinguishedName);
  if (organisation && cn && organisation !== cn) return `${organisation} (${cn})`;
  return organisation ?? cn ?? distinguishedName.replaceAll('\n', ', ');
}
