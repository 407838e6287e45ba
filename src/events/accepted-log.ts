/**
 * The `message.accepted` log line, written the same way by both edges (SMTP
 * and the HTTP API), so an operator's log query finds the same fields for a
 * message whichever way it came in.
 */
import type { Logger } from 'pino';

export interface AcceptedMessage {
  messageId: string;
  account: string;
  source: 'smtp' | 'api';
  /** Recipients queued for delivery (suppressed ones are not counted). */
  recipients: number;
  /** Bytes of the message as submitted, before Mailroom's own trace headers. */
  size: number;
  clientIp: string | null;
}

export function logAccepted(logger: Logger, message: AcceptedMessage): void {
  logger.info({ event: 'message.accepted', ...message }, 'message queued');
}
