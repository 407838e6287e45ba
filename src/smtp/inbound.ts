/**
 * The mx role's session: mail is accepted only for our VERP bounce addresses and the
 * domains' DMARC report addresses (anything else is `550 5.1.1`; we relay nothing). What
 * arrives at a VERP address is read as a DSN or a feedback report about the delivery the
 * address names; what arrives at a report address, as a DMARC aggregate report.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/database.ts';
import type { Config } from '../config/options.ts';
import { decodeReturnPath } from '../delivery/verp.ts';
import { parseInboundReport } from '../events/inbound-report.ts';
import { applyInboundReport } from '../events/feedback.ts';
import { newId } from '../store/ids.ts';
import { domainOfReportAddress } from '../domains/dmarc-reports.ts';
import type { DomainsTable } from '../store/schema.ts';
import { receiveDmarcReport } from './inbound-dmarc.ts';
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerOptions, SMTPServerSession } from './library.ts';
import { readMessage } from './message-reader.ts';
import { Replies, SmtpReplyError, replyText } from './replies.ts';

export interface InboundDeps {
  config: Config;
  store: Store;
  logger: Logger;
  verpSecret: string;
}

export function inboundHandlers(deps: InboundDeps): Partial<SMTPServerOptions> {
  const { config, store, logger, verpSecret } = deps;
  const acceptsRecipient = async (address: string): Promise<boolean> =>
    decodeReturnPath(address, verpSecret) !== null || (await domainOfReportAddress(store, address)) !== null;
  return {
    authOptional: true,
    disabledCommands: ['AUTH', 'WIZ', 'SHELL', 'KILL', 'XCLIENT', 'XFORWARD', 'VRFY'],
    maxAllowedUnauthenticatedCommands: false,
    onRcptTo(address: SMTPServerAddress, _session: SMTPServerSession, callback: (error?: Error | null) => void) {
      acceptsRecipient(address.address).then(
        (accepted) => callback(accepted ? null : new SmtpReplyError(Replies.mxUnknownRecipient(address.address))),
        (error) => {
          logger.error({ err: error, event: 'mx.error' }, 'recipient not checked');
          callback(new SmtpReplyError(Replies.temporaryFailure()));
        },
      );
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (error?: Error | null, message?: string) => void) {
      readMessage(stream, config.maxMessageSize).then(async (message) => {
        if (message.tooBig) return callback(new SmtpReplyError(Replies.messageTooBig(config.maxMessageSize)));
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const verpRecipients = session.envelope.rcptTo.filter((rcpt) => decodeReturnPath(rcpt.address, verpSecret) !== null);
        const reportDomains: DomainsTable[] = [];
        for (const rcpt of session.envelope.rcptTo) {
          const domain = verpRecipients.includes(rcpt) ? null : await domainOfReportAddress(store, rcpt.address);
          if (domain && !reportDomains.some((d) => d.id === domain.id)) reportDomains.push(domain);
        }
        if (reportDomains.length > 0) {
          const receipt = await receiveDmarcReport({ store, logger }, reportDomains, message.raw, from);
          if (verpRecipients.length === 0) {
            return receipt.accepted ? callback(null, replyText(Replies.mxReportReceived(receipt.ids.join(' '))))
              : callback(new SmtpReplyError(Replies.dmarcReportRefused(receipt.reason)));
          }
        }
        const report = await parseInboundReport(message.raw);
        const now = Date.now();
        let changed = 0;
        await store.db.transaction().execute(async (tx) => {
          for (const rcpt of verpRecipients) {
            const token = decodeReturnPath(rcpt.address, verpSecret);
            if (token) changed += await applyInboundReport(tx, token, report, now);
          }
        });
        const id = newId();
        logger.info({ event: 'mx.report', reportId: id, kind: report.kind, changed, from }, `inbound ${report.kind} report`);
        callback(null, replyText(Replies.mxReportReceived(id)));
      }).catch((error) => {
        logger.error({ err: error, event: 'mx.error' }, 'inbound report not processed');
        callback(new SmtpReplyError(Replies.temporaryFailure()));
      });
    },
  };
}
