/**
 * The SMTP listeners: submission with STARTTLS (the guide's port) and
 * submission over implicit TLS. Both run the same session handlers.
 */
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/options.ts';
import type { Listener } from '../nodes/listener.ts';
import { SMTPServer, closeGracefully, greetingDelayOption, type SMTPServerOptions } from './library.ts';
import { secureContextOptions, type TlsCredentials } from '../tls/credentials.ts';
import { submissionHandlers, type SubmissionDeps } from './submission.ts';
import { Replies, replyText } from './replies.ts';
import { inboundHandlers, type InboundDeps } from './inbound.ts';

export function baseServerOptions(config: Config, tls: TlsCredentials): SMTPServerOptions {
  return {
    name: config.hostname,
    banner: 'Mailroom',
    // RSA and, for the generated certificate, ECDSA too: each client gets the one it prefers.
    ...secureContextOptions(tls),
    size: config.maxMessageSize,
    authMethods: ['PLAIN', 'LOGIN'],
    allowInsecureAuth: config.insecureAuth,
    // Said by the library itself when MAIL, RCPT or DATA come before AUTH.
    authRequiredMessage: replyText(Replies.authRequired()),
    hideENHANCEDSTATUSCODES: false,
    hideDSN: true,
    hideREQUIRETLS: true,
    // Reverse lookups would go to the system resolver on every connection and
    // tell us nothing we act on.
    disableReverseLookup: true,
    logger: false,
    socketTimeout: config.smtpIdleTimeout,
    maxClients: config.smtpMaxClients,
    // Lines over 512 octets are answered 500 and the session goes on (library.ts); only a
    // line beyond this, longer than RFC 4954 allows even AUTH, ends the connection.
    maxCommandLength: 16 * 1024,
    maxAllowedUnauthenticatedCommands: 20,
    // Submission clients all log in: an early-talker wait would only slow them (see library.ts).
    ...greetingDelayOption(0),
    // The library's default hooks answer on the next turn of the event loop; until then a
    // client that talks is an "early talker". Answering at once greets at once.
    onConnect(_session, callback) {
      callback();
    },
    onSecure(_socket, _session, callback) {
      callback();
    },
  };
}

export interface ListenOptions {
  /** Share the port with other threads listening on it (SO_REUSEPORT: the kernel spreads connections). */
  reusePort?: boolean;
  /** TLS session ticket keys (48 bytes) shared by the threads, so a ticket from one resumes on any. */
  ticketKeys?: Buffer;
}

export async function startSubmissionListeners(config: Config, tls: TlsCredentials, deps: SubmissionDeps, options: ListenOptions = {}): Promise<Listener[]> {
  const listeners: Listener[] = [];
  if (config.smtpPort !== null) {
    const server = new SMTPServer({ ...baseServerOptions(config, tls), ...sharedTickets(options), ...submissionHandlers(deps, 'submission') });
    deps.recorder?.watchTlsErrors(server, 'submission');
    listeners.push(await listen('submission (plain, STARTTLS offered)', server, config.smtpHost, config.smtpPort, config, options));
  }
  if (config.smtpsPort !== null) {
    const server = new SMTPServer({ ...baseServerOptions(config, tls), ...sharedTickets(options), secure: true, ...submissionHandlers(deps, 'submissions') });
    deps.recorder?.watchTlsErrors(server, 'submissions');
    listeners.push(await listen('submission (implicit TLS)', server, config.smtpHost, config.smtpsPort, config, options));
  }
  return listeners;
}

// Kept in the server's options, so a certificate swap (updateSecureContext) keeps them too.
const sharedTickets = (options: ListenOptions) => (options.ticketKeys ? { ticketKeys: options.ticketKeys } : {});

export function listen(name: string, server: SMTPServer, host: string, port: number, config: Config, options: ListenOptions = {}): Promise<Listener> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, reusePort: options.reusePort ?? false }, () => {
      server.off('error', reject);
      // A client that misbehaves must not take the listener down.
      server.on('error', () => {});
      const address = (server as unknown as { server: { address(): AddressInfo } }).server.address();
      const shuttingDown = Replies.shuttingDown();
      resolve({
        name, host, port: address.port,
        close: () => closeGracefully(server, { code: shuttingDown.code, text: replyText(shuttingDown) }, config.shutdownTimeout),
        setCertificate: (tls) => server.updateSecureContext(secureContextOptions(tls)),
      });
    });
  });
}

export async function startMxListener(config: Config, tls: TlsCredentials, deps: InboundDeps): Promise<Listener> {
  const server = new SMTPServer({ ...baseServerOptions(config, tls), ...greetingDelayOption(config.mxGreetingDelay), ...inboundHandlers(deps) });
  return listen('mx (bounces and feedback reports)', server, config.smtpHost, config.mxPort ?? 25, config);
}
