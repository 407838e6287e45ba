/**
 * The one place that touches the SMTP server library's internals.
 *
 * smtp-server guesses an enhanced status code from the basic code of every
 * reply a handler returns (550 → 5.1.1 "mailbox unavailable"), which would put
 * the wrong reason on our policy replies. Our replies already carry their own
 * enhanced code (see replies.ts), so when a reply text starts with one, the
 * library is told to add none. Its own protocol replies keep its codes.
 *
 * The library also writes every reply to the socket on its own: a pipelined
 * MAIL, RCPT, DATA (RFC 2920) costs three writes, each a system call that on
 * loopback runs the peer's TCP receive path too. Replies made in one turn of
 * the event loop are written together instead (cork until the turn ends). A
 * reply that comes before the connection changes hands — 220 before the TLS
 * handshake, 221/421 before the close — flushes what waits and goes at once.
 */
import type { Socket } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { Replies, replyText } from './replies.ts';

const ENHANCED_CODE_PREFIX = /^[245]\.\d{1,3}\.\d{1,3} /;
const PATCHED = Symbol.for('mailroom.smtp-send-patched');
const PATCHED_AUTH = Symbol.for('mailroom.smtp-auth-before-tls-patched');
const PATCHED_LINES = Symbol.for('mailroom.smtp-command-line-limit-patched');
const PATCHED_GREETING = Symbol.for('mailroom.smtp-greeting-delay-patched');
const PATCHED_SNI = Symbol.for('mailroom.smtp-sni-patched');

type SendFn = (code: number, data: unknown, context?: unknown) => void;
interface Replier { _socket?: Socket; _upgrading?: boolean }

const HANDOVER_CODES = new Set([220, 221, 421]);

/**
 * The library members the patches below replace or read. smtp-server is
 * pinned to the exact version they were written for (package.json); should
 * an upgrade drop one, start-up fails here, naming it, rather than the
 * patch silently doing nothing (test/smtp/library-internals.test.ts checks
 * the per-connection ones too).
 */
export const PATCHED_PROTOTYPE_MEMBERS = ['send', 'handler_EHLO', 'handler_AUTH', '_isSupported', 'close', '_onCommand', '_whenWritable', 'init', '_setListeners', 'connectionReady'] as const;
/** The same for the library's SMTPServer (the SNI patch). */
export const PATCHED_SERVER_PROTOTYPE_MEMBERS = ['_resolveSNI'] as const;

function requirePrototypeMembers(): void {
  const proto = SMTPConnection.prototype as unknown as Record<string, unknown>;
  const serverProto = SMTPServer.prototype as unknown as Record<string, unknown>;
  const missing = [
    ...PATCHED_PROTOTYPE_MEMBERS.filter((name) => typeof proto[name] !== 'function'),
    ...PATCHED_SERVER_PROTOTYPE_MEMBERS.filter((name) => typeof serverProto[name] !== 'function').map((name) => `SMTPServer.${name}`),
  ];
  if (missing.length > 0) {
    throw new Error(`smtp-server's SMTPConnection has no ${missing.join(', ')}, which src/smtp/library.ts patches: reinstall the pinned smtp-server version (package.json) or port the patches`);
  }
}

function patchReplies(): void {
  const proto = SMTPConnection.prototype as unknown as { send: SendFn; [PATCHED]?: boolean };
  if (proto[PATCHED]) return;
  const original = proto.send;
  proto.send = function (this: Replier, code: number, data: unknown, context?: unknown) {
    const socket = this._socket;
    if (socket && !socket.destroyed && !this._upgrading) {
      if (HANDOVER_CODES.has(code)) {
        while (socket.writableCorked > 0) socket.uncork();
      } else if (socket.writableCorked === 0) {
        socket.cork();
        setImmediate(() => { while (socket.writableCorked > 0) socket.uncork(); });
      }
    }
    const ownsEnhancedCode = typeof data === 'string' && ENHANCED_CODE_PREFIX.test(data);
    return original.call(this, code, data, ownsEnhancedCode ? false : context);
  };
  proto[PATCHED] = true;
}

/**
 * With allowInsecureAuth off, smtp-server still advertises AUTH before TLS (so
 * clients try it) and refuses it in words and a code of its own (538 5.7.0).
 * RFC 4954 wants neither: a mechanism that cannot be used now is not
 * advertised, and AUTH before TLS is `538 5.7.11`. So, until the connection
 * is secure, EHLO leaves AUTH out and AUTH gets our reply; AUTH stays a known
 * command, so the library's 530 and its unauthenticated-command limit apply.
 */
interface AuthGate {
  secure: boolean;
  session: { disabledCommands?: string[] };
  _server: { options: { allowInsecureAuth?: boolean; hideSTARTTLS?: boolean; disabledCommands: string[] } };
  _isSupported(command: string): boolean;
  send(code: number, data: string): void;
}
type Handler = (this: AuthGate, command: Buffer, callback: () => void) => void;

function patchAuthBeforeTls(): void {
  const proto = SMTPConnection.prototype as unknown as { handler_EHLO: Handler; handler_AUTH: Handler; [PATCHED_AUTH]?: boolean };
  if (proto[PATCHED_AUTH]) return;
  // The library's own condition for refusing AUTH with 538, unchanged.
  const authNeedsTls = (c: AuthGate) =>
    !c.secure && !c._server.options.allowInsecureAuth && !c._server.options.hideSTARTTLS && c._isSupported('STARTTLS');
  const ehlo = proto.handler_EHLO;
  proto.handler_EHLO = function (command, callback) {
    if (!authNeedsTls(this)) return ehlo.call(this, command, callback);
    const saved = this.session.disabledCommands;
    // The EHLO handler runs synchronously, so AUTH is hidden for exactly this reply.
    this.session.disabledCommands = [...(saved ?? this._server.options.disabledCommands), 'AUTH'];
    try {
      ehlo.call(this, command, callback);
    } finally {
      this.session.disabledCommands = saved;
    }
  };
  const auth = proto.handler_AUTH;
  proto.handler_AUTH = function (command, callback) {
    if (!authNeedsTls(this)) return auth.call(this, command, callback);
    const refusal = Replies.authRequiresTls();
    this.send(refusal.code, replyText(refusal));
    callback();
  };
  proto[PATCHED_AUTH] = true;
}

/** RFC 5321 4.5.3.1.4: 512 octets with the CRLF. */
export const MAX_COMMAND_LINE_OCTETS = 512;
/** RFC 4954 4: AUTH and the SASL responses that follow it may be up to 12288 octets. */
const MAX_AUTH_LINE_OCTETS = 12288;

/** Mailroom's own server option: told of each command line refused as too long. */
export interface LineLimitHooks {
  onCommandLineTooLong?(session: SMTPServerSession, length: number): void;
}

interface CommandParser {
  _nextHandler: unknown;
  _upgrading?: boolean;
  session: SMTPServerSession;
  _server: { options: LineLimitHooks };
  send(code: number, data: string): void;
  _whenWritable(next: () => void): void;
}
type OnCommand = (this: CommandParser, command: Buffer, callback?: () => void) => void;

/**
 * smtp-server takes command lines up to its maxCommandLength and closes the
 * connection beyond it. RFC 5321 wants `500` for a line over 512 octets and
 * the session to go on: so a line over 512 (but within maxCommandLength,
 * beyond which a client is hostile) is answered here and never reaches a
 * handler. AUTH and SASL responses have RFC 4954's larger limit.
 */
function patchCommandLineLimit(): void {
  const proto = SMTPConnection.prototype as unknown as { _onCommand: OnCommand; [PATCHED_LINES]?: boolean };
  if (proto[PATCHED_LINES]) return;
  const original = proto._onCommand;
  proto._onCommand = function (command, callback) {
    const octets = command.length + 2;
    const limit = this._nextHandler || /^AUTH\b/i.test(command.subarray(0, 5).toString('latin1')) ? MAX_AUTH_LINE_OCTETS : MAX_COMMAND_LINE_OCTETS;
    if (octets <= limit || this._upgrading) return original.call(this, command, callback);
    // A SASL response too long ends the exchange; the library's own handler would wait for another.
    this._nextHandler = false;
    const reply = Replies.commandLineTooLong();
    this.send(reply.code, replyText(reply));
    this._server.options.onCommandLineTooLong?.(this.session, octets);
    this._whenWritable(callback ?? (() => {}));
  };
  proto[PATCHED_LINES] = true;
}

/**
 * smtp-server waits a fixed 100 ms before every greeting, to catch clients
 * that talk before it ("early talkers", mostly spam software). On a submission
 * port every client logs in, so the wait buys nothing and costs every session
 * 100 ms: with a session per message (Gmail's "Send mail as", most mail
 * libraries) it caps 50 clients at 500 messages/s. The library has no option
 * for it, so init() is replaced by the same steps with the wait taken from
 * the listener's options (`greetingDelayOption`): none unless asked for.
 */
const GREETING_DELAY = 'mailroomGreetingDelayMs';

interface Greeter {
  _server: { options: { maxClients?: number; [GREETING_DELAY]?: number }; connections: Set<unknown> };
  name: string;
  _setListeners(callback: () => void): void;
  connectionReady(): void;
  send(code: number, data: string, context?: unknown): void;
}

/** Options for a listener that waits `ms` before its greeting (0: greets at once). */
export function greetingDelayOption(ms: number): Record<string, number> {
  return { [GREETING_DELAY]: ms };
}

function patchGreetingDelay(): void {
  const proto = SMTPConnection.prototype as unknown as { init(this: Greeter): void; [PATCHED_GREETING]?: boolean };
  if (proto[PATCHED_GREETING]) return;
  proto.init = function (this: Greeter) {
    this._setListeners(() => {
      const { maxClients } = this._server.options;
      if (maxClients && this._server.connections.size > maxClients) {
        const busy = Replies.tooManyClients();
        return this.send(busy.code, replyText(busy), false);
      }
      const delay = this._server.options[GREETING_DELAY] ?? 0;
      if (delay <= 0) return this.connectionReady();
      // Unref'd like the library's own timer: a pending greeting does not keep the process alive.
      setTimeout(() => this.connectionReady(), delay).unref();
    });
  };
  proto[PATCHED_GREETING] = true;
}

/**
 * The listeners serve two certificates, RSA and ECDSA (see tls.ts), and each
 * client gets the one it can verify. But smtp-server answers every SNI name
 * with a context, and when Node switches a handshake to an SNI context it
 * takes only that context's last certificate (ECDSA): a client limited to RSA
 * that sends SNI would fail its handshake. When the name resolves to the
 * listener's own context there is nothing to switch to, so none is handed
 * back and the handshake keeps both certificates.
 */
type SniCallback = (error: Error | null, context?: unknown) => void;
interface SniResolver {
  secureContext: Map<string, unknown>;
  _resolveSNI(servername: string, callback: SniCallback): void;
}

function patchSniDefaultContext(): void {
  const proto = SMTPServer.prototype as unknown as SniResolver & { [PATCHED_SNI]?: boolean };
  if (proto[PATCHED_SNI]) return;
  const resolve = proto._resolveSNI;
  proto._resolveSNI = function (this: SniResolver, servername, callback) {
    resolve.call(this, servername, (error, context) => {
      callback(error, context === this.secureContext.get('*') ? null : context);
    });
  };
  proto[PATCHED_SNI] = true;
}

/** Set on a session (by onConnect) whose client address is a registered device: it may send without AUTH. */
export const DEVICE_LANE = Symbol.for('mailroom.device-lane');
/**
 * Set by onConnect: looks the client address up among registered devices (a store read) and
 * marks DEVICE_LANE. Only a client that sends MAIL, RCPT or DATA without having logged in needs
 * the answer, so only then is it asked, and that command waits for it: a session that logs in
 * (nearly all, a session per message with Gmail) costs no read, and the greeting never waits.
 */
export const DEVICE_LOOKUP = Symbol.for('mailroom.device-lookup');
const NEEDS_A_SENDER = new Set(['MAIL', 'RCPT', 'DATA']);
const PATCHED_DEVICE_LANE = Symbol.for('mailroom.smtp-device-lane-patched');

/**
 * smtp-server's `authOptional` is one switch for the whole server: on, it
 * would also drop the 530 for MAIL/RCPT/DATA and the cap on commands before
 * AUTH for every client. The device lane needs it for device addresses only,
 * so it is switched on for the synchronous length of one command of a device
 * session (both checks run synchronously at the top of _onCommand).
 */
function patchDeviceLane(): void {
  const proto = SMTPConnection.prototype as unknown as { _onCommand: OnCommand; [PATCHED_DEVICE_LANE]?: boolean };
  if (proto[PATCHED_DEVICE_LANE]) return;
  const original = proto._onCommand;
  proto._onCommand = function lanedCommand(command, callback) {
    const marks = this.session as unknown as Record<symbol, unknown>;
    const lookup = marks[DEVICE_LOOKUP] as (() => Promise<unknown>) | undefined;
    if (lookup && !this.session.user && NEEDS_A_SENDER.has(command.subarray(0, 4).toString('latin1').toUpperCase())) {
      delete marks[DEVICE_LOOKUP];
      // The library reads the next command only once `callback` is called, so waiting keeps the order.
      return void lookup().then(() => lanedCommand.call(this, command, callback));
    }
    const options = this._server.options as { authOptional?: boolean };
    const configured = options.authOptional;
    options.authOptional = configured || marks[DEVICE_LANE] === true;
    try {
      return original.call(this, command, callback);
    } finally {
      options.authOptional = configured;
    }
  };
  proto[PATCHED_DEVICE_LANE] = true;
}

requirePrototypeMembers();
patchReplies();
patchAuthBeforeTls();
patchCommandLineLimit();
patchGreetingDelay();
patchSniDefaultContext();
patchDeviceLane();

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
