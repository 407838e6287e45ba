/** May this account send as this domain? Pure: facts in, a verdict out. */
import { domainToASCII } from 'node:url';
import { ACCEPT, refuse, type Verdict } from './refusal.ts';

export interface AccountDomainFact {
  name: string;
  verified: boolean;
}

/**
 * Domains are kept in their ASCII (punycode) form; the SMTP library hands us
 * `bücher.example` even when the client wrote `xn--bcher-kva.example`, and a
 * header may hold either, so both are compared — and named — in ASCII.
 */
function asciiDomain(domain: string): string {
  const lower = domain.toLowerCase();
  return domainToASCII(lower) || lower;
}

function findDomain(domain: string, domains: readonly AccountDomainFact[]): AccountDomainFact | undefined {
  return domains.find((candidate) => candidate.name === domain);
}

export function checkEnvelopeSender(address: string, domains: readonly AccountDomainFact[]): Verdict {
  if (address === '') return refuse({ kind: 'null-sender' });
  const domain = asciiDomain(address.slice(address.lastIndexOf('@') + 1));
  const found = findDomain(domain, domains);
  if (!found) return refuse({ kind: 'sender-domain-not-added', domain });
  if (!found.verified) return refuse({ kind: 'sender-domain-not-verified', domain });
  return ACCEPT;
}

export function checkHeaderFrom(headerDomain: string | null, domains: readonly AccountDomainFact[]): Verdict {
  if (headerDomain === null) return refuse({ kind: 'missing-header-from' });
  const domain = asciiDomain(headerDomain);
  const found = findDomain(domain, domains);
  if (!found || !found.verified) return refuse({ kind: 'header-from-not-allowed', domain });
  return ACCEPT;
}

/** Every author of the From header must pass (null: no readable From header). */
export function checkHeaderAuthors(authorDomains: readonly string[] | null, domains: readonly AccountDomainFact[]): Verdict {
  if (authorDomains === null || authorDomains.length === 0) return checkHeaderFrom(null, domains);
  for (const domain of authorDomains) {
    const verdict = checkHeaderFrom(domain, domains);
    if (!verdict.ok) return verdict;
  }
  return ACCEPT;
}
