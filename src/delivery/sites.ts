/**
 * A site is where mail really goes: every domain hosted by Google is one destination for
 * Google's rate limits, whatever its name. Limits, connection caps and statistics are kept per
 * site, so a thousand small Workspace domains cannot each get a full share of Google's patience.
 *
 * A site is named after the provider when the most preferred MX host belongs to a known one
 * (the patterns below), otherwise after the sorted set of its MX host names — two domains
 * listing the same hosts share a site, one listing an extra backup host does not (it may
 * well be different infrastructure).
 */

interface ProviderPattern {
  site: string;
  /** Tested against a lower-case MX host name without the trailing dot. */
  host: RegExp;
  example: string;
}

export const PROVIDER_PATTERNS: readonly ProviderPattern[] = [
  { site: 'google', host: /(^|\.)(google\.com|googlemail\.com)$/, example: 'aspmx.l.google.com' },
  { site: 'microsoft', host: /(^|\.)(outlook\.com|hotmail\.com)$/, example: 'example-com.mail.protection.outlook.com' },
  { site: 'yahoo', host: /(^|\.)(yahoodns\.net|yahoo\.com|aol\.com)$/, example: 'mta5.am0.yahoodns.net' },
  { site: 'apple', host: /(^|\.)(icloud\.com|apple\.com|me\.com)$/, example: 'mx01.mail.icloud.com' },
  { site: 'proton', host: /(^|\.)(protonmail\.ch|proton\.me)$/, example: 'mailsec.protonmail.ch' },
  { site: 'fastmail', host: /(^|\.)messagingengine\.com$/, example: 'in1-smtp.messagingengine.com' },
  { site: 'zoho', host: /(^|\.)zoho(mail)?\.(com|eu|in|com\.au|com\.cn|jp|sa)$/, example: 'mx.zoho.eu' },
  { site: 'mimecast', host: /(^|\.)mimecast\.(com|co\.za)$/, example: 'eu-smtp-inbound-1.mimecast.com' },
  { site: 'proofpoint', host: /(^|\.)pphosted\.com$/, example: 'mx0a-001b2d01.pphosted.com' },
];

/** The provider a single MX host belongs to, or null. */
export function providerOf(mxHost: string): string | null {
  const host = normalise(mxHost);
  return PROVIDER_PATTERNS.find((p) => p.host.test(host))?.site ?? null;
}

/** The site of a destination, from its MX host names, most preferred first. */
export function siteOf(mxHosts: readonly string[]): string {
  if (mxHosts.length === 0) throw new Error('a site needs at least one MX host');
  const provider = providerOf(mxHosts[0]);
  if (provider) return provider;
  return [...new Set(mxHosts.map(normalise))].sort().join(',');
}

function normalise(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}
