/**
 * The one place that touches the SMTP server library's internals.
 *
 * smtp-server guesses an enhanced status code from the basic code of every
 * reply a handler returns (550 → 5.1.1 "mailbox unavailable"), which would put
 * the wrong reason on our policy replies. Our replies already carry their own
 * enhanced code (see replies.ts), so when a reply text starts with one, the
 * library is told to add none. Its own protocol replies keep its codes.
 */
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

const ENHANCED_CODE_PREFIX = /^[245]\.\d{1,3}\.\d{1,3} /;
const PATCHED = Symbol.for('mailroom.smtp-send-patched');

type SendFn = (code: number, data: unknown, context?: unknown) => void;

function patchReplies(): void {
  const proto = SMTPConnection.prototype as unknown as { send: SendFn; [PATCHED]?: boolean };
  if (proto[PATCHED]) return;
  const original = proto.send;
  proto.send = function (this: unknown, code: number, data: unknown, context?: unknown) {
    const ownsEnhancedCode = typeof data === 'string' && ENHANCED_CODE_PREFIX.test(data);
    return original.call(this, code, data, ownsEnhancedCode ? false : context);
  };
  proto[PATCHED] = true;
}

patchReplies();

export { SMTPServer };
export type { SMTPServerOptions, SMTPServerSession, SMTPServerDataStream, SMTPServerAddress, SMTPServerAuthentication } from 'smtp-server';

interface LibraryConnection {
  _dataStream?: unknown;
  send(code: number, data: string): void;
  close(): void;
}

/**
 * Graceful close: stop accepting, answer idle sessions `421` at once, let a
 * message that is being transferred finish (its 250 is only sent after the
 * commit), and cut whatever is still open after `graceMs`.
 */
export function closeGracefully(server: SMTPServer, reply: { code: number; text: string }, graceMs: number): Promise<void> {
  const internals = server as unknown as { server: { close(cb: () => void): void }; connections: Set<LibraryConnection> };
  return new Promise((resolve) => {
    internals.server.close(() => {});
    const deadline = Date.now() + graceMs;
    const sweep = () => {
      for (const connection of internals.connections) {
        if (!connection._dataStream || Date.now() >= deadline) {
          connection.send(reply.code, reply.text);
          connection.close();
        }
      }
      if (internals.connections.size === 0 || Date.now() >= deadline + 1000) return resolve();
      setTimeout(sweep, 50).unref();
    };
    sweep();
  });
}
