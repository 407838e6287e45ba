/**
 * The mx role's session: mail is accepted only for our VERP bounce addresses
 * (anything else is `550 5.1.1`; we relay nothing), and what arrives is read
 * as a DSN or a feedback report about the delivery the address names.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/database.ts';
import type { Config } from '../config/options.ts';
import { decodeReturnPath } from '../message/verp.ts';
import { parseInboundReport } from '../events/inbound-report.ts';
import { applyInboundReport } from '../events/feedback.ts';
import { newId } from '../store/ids.ts';
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerOptions, SMTPServerSession } from './library.ts';
import { readDataStream } from './message-reader.ts';
import { Replies, SmtpReplyError, replyText } from './replies.ts';

export interface InboundDeps {
  config: Config;
  store: Store;
  logger: Logger;
  verpSecret: string;
}

export function inboundHandlers(deps: InboundDeps): Partial<SMTPServerOptions> {
  const { config, store, logger, verpSecret } = deps;
  return {
    authOptional: true,
    disabledCommands: ['AUTH', 'WIZ', 'SHELL', 'KILL', 'XCLIENT', 'XFORWARD', 'VRFY'],
    maxAllowedUnauthenticatedCommands: false,
    onRcptTo(address: SMTPServerAddress, _session: SMTPServerSession, callback: (error?: Error | null) => void) {
      if (decodeReturnPath(address.address, verpSecret) === null) return callback(new SmtpReplyError(Replies.mxUnknownRecipient(address.address)));
      callback();
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (error?: Error | null, message?: string) => void) {
      readDataStream(stream, config.maxMessageSize).then(async (message) => {
        if (message.tooBig) return callback(new SmtpReplyError(Replies.messageTooBig(config.maxMessageSize)));
        const report = await parseInboundReport(message.raw);
        const now = Date.now();
        let changed = 0;
        await store.db.transaction().execute(async (tx) => {
          for (const rcpt of session.envelope.rcptTo) {
            const token = decodeReturnPath(rcpt.address, verpSecret);
            if (token) changed += await applyInboundReport(tx, token, report, now);
          }
        });
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
