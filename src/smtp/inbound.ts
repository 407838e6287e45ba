/**
 * The mx role's session: mail is accepted only for our VERP bounce addresses
 * and the accounts' "receive here" addresses (anything else is `550 5.1.1`;
 * we relay nothing). What arrives at a VERP address is read as a DSN or a
 * feedback report about the delivery the address names; what arrives for a
 * receive-here address is caught for its account (inbound-caught.ts).
 */
import type { Logger } from 'pino';
import type { QueueWriter } from '../queue/writer.ts';
import type { EventWrites } from '../events/event-writes.ts';
import type { Store } from '../store/database.ts';
import type { Config } from '../config/options.ts';
import { decodeReturnPath } from '../message/verp.ts';
import { parseInboundReport } from '../events/inbound-report.ts';
import { newId } from '../store/ids.ts';
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerOptions, SMTPServerSession } from './library.ts';
import { readDataStream } from './message-reader.ts';
import { catchForRecipients, receivesHere } from './inbound-caught.ts';
import { Replies, SmtpReplyError, replyText } from './replies.ts';

export interface InboundDeps {
  config: Config;
  /** The report's changes and caught mail are written through the queue writer, off the main thread on SQLite. */
  writer: QueueWriter<EventWrites>;
  /** Reads only: which addresses receive here. */
  store: Store;
  logger: Logger;
  verpSecret: string;
}

export function inboundHandlers(deps: InboundDeps): Partial<SMTPServerOptions> {
  const { writer, store, logger, verpSecret } = deps;
  const { config } = deps;
  return {
    authOptional: true,
    disabledCommands: ['AUTH', 'WIZ', 'SHELL', 'KILL', 'XCLIENT', 'XFORWARD', 'VRFY'],
    maxAllowedUnauthenticatedCommands: false,
    onRcptTo(address: SMTPServerAddress, _session: SMTPServerSession, callback: (error?: Error | null) => void) {
      if (decodeReturnPath(address.address, verpSecret) !== null) return callback();
      receivesHere(store, address.address).then(
        (receives) => callback(receives ? null : new SmtpReplyError(Replies.mxUnknownRecipient(address.address))),
        (error) => {
          logger.error({ err: error, event: 'mx.error' }, 'recipient lookup failed');
          callback(new SmtpReplyError(Replies.temporaryFailure()));
        },
      );
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (error?: Error | null, message?: string) => void) {
      readDataStream(stream, config.maxMessageSize).then(async (message) => {
        if (message.tooBig) return callback(new SmtpReplyError(Replies.messageTooBig(config.maxMessageSize)));
        const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const others = session.envelope.rcptTo.map((r) => r.address).filter((address) => decodeReturnPath(address, verpSecret) === null);
        const caught = others.length === 0 ? [] : await catchForRecipients(deps, { mailFrom, rcptTo: others, clientIp: session.remoteAddress ?? null }, message.raw);
        // Every recipient caught it: no report to read. (Any other recipient goes on to its own handling below.)
        if (caught.length > 0 && session.envelope.rcptTo.every((rcpt) => caught.some((c) => c.recipient === rcpt.address.toLowerCase()))) {
          return callback(null, replyText(Replies.mxMessageCaught(caught[0].id)));
        }
        const report = await parseInboundReport(message.raw);
        const now = Date.now();
        const tokens = session.envelope.rcptTo.flatMap((rcpt) => decodeReturnPath(rcpt.address, verpSecret) ?? []);
        const changed = await writer.run('applyInboundReport', { tokens, report, now });
        const id = newId();
        logger.info({ event: 'mx.report', reportId: id, kind: report.kind, changed, from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '' }, `inbound ${report.kind} report`);
        callback(null, replyText(Replies.mxReportReceived(id)));
      }).catch((error) => {
        logger.error({ err: error, event: 'mx.error' }, 'inbound report not processed');
        callback(new SmtpReplyError(Replies.temporaryFailure()));
      });
    },
  };
}
