/**
 * The mx role's session: mail is accepted only for our VERP bounce addresses, the
 * domains' DMARC report addresses and the accounts' "receive here" addresses (anything
 * else is `550 5.1.1`; we relay nothing). What arrives at a VERP address is read as a DSN
 * or a feedback report about the delivery the address names; at a report address, as a
 * DMARC aggregate report (inbound-dmarc.ts); for a receive-here address, it is caught for
 * its account (inbound-caught.ts).
 */
import type { Logger } from 'pino';
import type { QueueWriter } from '../queue/writer.ts';
import type { EventWrites } from '../events/event-writes.ts';
import type { Store } from '../store/database.ts';
import type { Config } from '../config/options.ts';
import { decodeReturnPath } from '../message/verp.ts';
import { parseInboundReport } from '../events/inbound-report.ts';
import { newId } from '../store/ids.ts';
import { domainOfReportAddress } from '../domains/dmarc-reports.ts';
import type { DomainsTable } from '../store/schema.ts';
import { receiveDmarcReport } from './inbound-dmarc.ts';
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerOptions, SMTPServerSession } from './library.ts';
import { readDataStream } from './message-reader.ts';
import { catchForRecipients, receivesHere } from './inbound-caught.ts';
import { Replies, SmtpReplyError, replyText } from './replies.ts';

export interface InboundDeps {
  config: Config;
  /** Bounce and feedback reports' changes and caught mail are written through the queue writer, off the main thread on SQLite. */
  writer: QueueWriter<EventWrites>;
  /** Reads: which addresses receive here, which domain a report address is for. */
  store: Store;
  logger: Logger;
  verpSecret: string;
}

export function inboundHandlers(deps: InboundDeps): Partial<SMTPServerOptions> {
  const { config, writer, store, logger, verpSecret } = deps;
  const acceptsRecipient = async (address: string): Promise<boolean> =>
    decodeReturnPath(address, verpSecret) !== null
    || (await domainOfReportAddress(store, address)) !== null
    || (await receivesHere(store, address));
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
      readDataStream(stream, config.maxMessageSize).then(async (message) => {
        if (message.tooBig) return callback(new SmtpReplyError(Replies.messageTooBig(config.maxMessageSize)));
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const verpRecipients = session.envelope.rcptTo.filter((rcpt) => decodeReturnPath(rcpt.address, verpSecret) !== null);
        const others = session.envelope.rcptTo.filter((rcpt) => !verpRecipients.includes(rcpt));
        const reportDomains: DomainsTable[] = [];
        const catchFor: string[] = [];
        for (const rcpt of others) {
          const domain = await domainOfReportAddress(store, rcpt.address);
          if (!domain) catchFor.push(rcpt.address);
          else if (!reportDomains.some((d) => d.id === domain.id)) reportDomains.push(domain);
        }
        const caught = catchFor.length === 0 ? [] : await catchForRecipients(deps, { mailFrom: from, rcptTo: catchFor, clientIp: session.remoteAddress ?? null }, message.raw);
        const receipt = reportDomains.length === 0 ? null : await receiveDmarcReport({ store, logger }, reportDomains, message.raw, from);
        if (verpRecipients.length === 0) {
          // No bounce to read: answer for the report, else for the caught mail.
          if (receipt) {
            return receipt.accepted ? callback(null, replyText(Replies.mxReportReceived(receipt.ids.join(' '))))
              : callback(new SmtpReplyError(Replies.dmarcReportRefused(receipt.reason)));
          }
          if (caught.length > 0) return callback(null, replyText(Replies.mxMessageCaught(caught[0].id)));
        }
        const report = await parseInboundReport(message.raw);
        const now = Date.now();
        const tokens = verpRecipients.flatMap((rcpt) => decodeReturnPath(rcpt.address, verpSecret) ?? []);
        const changed = await writer.run('applyInboundReport', { tokens, report, now });
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
