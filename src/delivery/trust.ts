/**
 * Which certificate authorities outbound TLS trusts when it verifies (MTA-STS policy hosts and,
 * under an enforced policy, MX hosts): Node's default store — the system CAs plus
 * NODE_EXTRA_CA_CERTS, read once at process start — and, for tests that cannot set that
 * variable after start, extra roots passed in.
 */
import tls from 'node:tls';

export interface OutboundTlsOptions {
  /** PEM roots trusted in addition to the default store. */
  extraCaCerts?: string[];
  /** Port of MTA-STS policy hosts (443 unless a test serves policies from loopback). */
  mtaStsPort?: number;
}

/** undefined keeps Node's default store as is; a list is that store plus the extra roots. */
export function trustedRoots(options: OutboundTlsOptions | undefined): string[] | undefined {
  if (!options?.extraCaCerts?.length) return undefined;
  return [...tls.getCACertificates('default'), ...options.extraCaCerts];
}
