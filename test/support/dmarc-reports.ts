/**
 * DMARC aggregate report mails as providers send them, made from the hand-written reports in
 * test/support/dmarc/ (RFC 7489 appendix C): Google's gzip attachment, Microsoft's zip.
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { zipSync, strToU8 } from 'fflate';

const CRLF = '\r\n';

/** The report XML with DOMAIN replaced by the domain it is about. */
export function reportXml(provider: 'google' | 'microsoft', domain: string): string {
  return readFileSync(new URL(`./dmarc/${provider}.xml`, import.meta.url), 'utf8').replaceAll('DOMAIN', domain);
}

/** The day a report sent at `now` covers (epoch seconds): the 24 hours ending an hour ago. */
export function recentPeriod(now = Date.now()): { begin: number; end: number } {
  const end = Math.floor(now / 1000) - 3600;
  return { begin: end - 86_400, end };
}

/**
 * The report moved to the day before `now`, as if it had just been sent: fixed dates would
 * fall out of every "last N days" window as the calendar moves on.
 */
export function recentReportXml(provider: 'google' | 'microsoft', domain: string, now = Date.now()): string {
  const { begin, end } = recentPeriod(now);
  return reportXml(provider, domain).replace(/<begin>\d+<\/begin>/, `<begin>${begin}</begin>`).replace(/<end>\d+<\/end>/, `<end>${end}</end>`);
}

export function gzipped(xml: string): Buffer {
  return gzipSync(xml);
}

export function zipped(name: string, content: string | Uint8Array): Buffer {
  return Buffer.from(zipSync({ [name]: typeof content === 'string' ? strToU8(content) : content }));
}

/** A report mail with one attachment, as the reporting provider writes it. */
export function reportMail(options: { from: string; to: string; subject: string; filename: string; contentType: string; content: Buffer }): string {
  const base64 = options.content.toString('base64').replace(/.{76}/g, `$&${CRLF}`);
  return [
    `From: ${options.from}`, `To: ${options.to}`, `Subject: ${options.subject}`, 'Date: Sun, 7 Dec 2026 06:12:44 +0000',
    'Message-ID: <report-' + options.filename + '@reporter.example>', 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="000000000000report"', '',
    '--000000000000report', 'Content-Type: text/plain; charset="UTF-8"', '', 'This is an aggregate report from the reporting organisation.', '',
    '--000000000000report', `Content-Type: ${options.contentType}; name="${options.filename}"`, `Content-Disposition: attachment; filename="${options.filename}"`,
    'Content-Transfer-Encoding: base64', '', base64, '--000000000000report--', '',
  ].join(CRLF);
}

/** Google's report of the day before `now`, gzipped, as Google mails it. */
export function googleReportMail(domain: string, to: string, now = Date.now()): string {
  const { begin, end } = recentPeriod(now);
  return reportMail({
    from: 'noreply-dmarc-support@google.com', to, subject: `Report domain: ${domain} Submitter: google.com Report-ID: 4820391847729123456`,
    filename: `google.com!${domain}!${begin}!${end}.xml.gz`, contentType: 'application/gzip', content: gzipped(recentReportXml('google', domain, now)),
  });
}

/** Microsoft's report of the day before `now`, zipped, as Outlook.com mails it. */
export function microsoftReportMail(domain: string, to: string, now = Date.now()): string {
  const { begin, end } = recentPeriod(now);
  return reportMail({
    from: 'dmarcreport@microsoft.com', to, subject: `Report Domain: ${domain} Submitter: protection.outlook.com Report-ID: <7c3d2b0e9a5f4e1d8b6a0c4f2e7d9a13>`,
    filename: `protection.outlook.com!${domain}!${begin}!${end}.zip`, contentType: 'application/zip',
    content: zipped(`protection.outlook.com!${domain}!${begin}!${end}.xml`, recentReportXml('microsoft', domain, now)),
  });
}
