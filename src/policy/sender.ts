/** May this account send as this domain? Pure: facts in, a verdict out. */
import { ACCEPT, refuse, type Verdict } from './refusal.ts';

export interface AccountDomainFact {
  name: string;
  verified: boolean;
}

function findDomain(domain: string, domains: readonly AccountDomainFact[]): AccountDomainFact | undefined {
  const wanted = domain.toLowerCase();
  return domains.find((candidate) => candidate.name === wanted);
}

export function checkEnvelopeSender(address: string, domains: readonly AccountDomainFact[]): Verdict {
  if (address === '') return refuse({ kind: 'null-sender' });
  const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  const found = findDomain(domain, domains);
  if (!found) return refuse({ kind: 'sender-domain-not-added', domain });
  if (!found.verified) return refuse({ kind: 'sender-domain-not-verified', domain });
  return ACCEPT;
}

export function checkHeaderFrom(domain: string | null, domains: readonly AccountDomainFact[]): Verdict {
  if (domain === null) return refuse({ kind: 'missing-header-from' });
  const found = findDomain(domain, domains);
  if (!found || !found.verified) return refuse({ kind: 'header-from-not-allowed', domain });
  return ACCEPT;
}
