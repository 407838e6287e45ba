/**
 * A DMARC aggregate report mailed to a domain's report address (dmarc@<return-path domain>) at
 * the mx role: its attachments are unpacked, read and stored under the domain. What cannot be
 * read (not a report, broken or oversized archive, a report about somebody else's domain) is
 * refused with the reason, and logged; nothing else in the mail is lost by it.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/database.ts';
import type { DomainsTable } from '../store/schema.ts';
import { reportDocuments, ReportAttachmentError } from '../domains/dmarc-attachments.ts';
import { DmarcReportError, parseDmarcReport } from '../domains/dmarc-report.ts';
import { storeDmarcReport } from '../domains/dmarc-reports.ts';

export type DmarcReceipt = { accepted: true; ids: string[] } | { accepted: false; reason: string };

export async function receiveDmarcReport(deps: { store: Store; logger: Logger }, domains: DomainsTable[], raw: Buffer, from: string): Promise<DmarcReceipt> {
  const { store, logger } = deps;
  let documents;
  try {
    documents = await reportDocuments(raw);
  } catch (error) {
    return refused(logger, domains, from, error);
  }
  const ids: string[] = [];
  let lastRefusal: DmarcReceipt | null = null;
  for (const document of documents) {
    for (const domain of domains) {
      try {
        const report = parseDmarcReport(document.xml);
        const stored = await storeDmarcReport(store, domain, report, Date.now());
        ids.push(stored.id);
        logger.info({ event: 'mx.dmarc_report', domain: domain.name, org: report.orgName, reportId: report.reportId, outcome: stored.outcome, rows: report.rows.length, from },
          `DMARC report ${report.reportId} from ${report.orgName} for ${domain.name}: ${stored.outcome}`);
      } catch (error) {
        lastRefusal = refused(logger, [domain], from, error, document.filename);
      }
    }
  }
  return ids.length > 0 ? { accepted: true, ids } : lastRefusal!;
}

function refused(logger: Logger, domains: DomainsTable[], from: string, error: unknown, filename?: string): DmarcReceipt {
  // Anything else is ours to fix (the store is down): the sender should try again later.
  if (!(error instanceof DmarcReportError) && !(error instanceof ReportAttachmentError)) throw error;
  const reason = filename ? `${filename}: ${error.message}` : error.message;
  logger.warn({ event: 'mx.dmarc_report_refused', domains: domains.map((d) => d.name), from, reason }, `DMARC report refused: ${reason}`);
  return { accepted: false, reason };
}
