/**
 * One outbound SMTP session to one MX address, over nodemailer's SMTPConnection — the only
 * file that knows the SMTP client library. It opens the TCP connection itself (to the IP the
 * route resolved, so no system DNS is ever asked, and so the connect timeout is exactly ours),
 * then lets SMTPConnection do greeting, EHLO, opportunistic STARTTLS, AUTH and transactions.
 *
 * `send` reports what the server said per recipient as data and leaves judging it to
 * classify.ts; only a session that broke underway comes back as an error value.
 */
import net from 'node:net';
import tls from 'node:tls';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { NodemailerError } from 'nodemailer/lib/errors.js';
import type { TlsFacts } from '../queue/outcome.ts';
import type { Poolable } from './connection-pool.ts';

export interface SessionTimeouts {
  /** TCP connect. */
  connectMs: number;
  /** Setting the session up once connected: greeting, EHLO and the STARTTLS handshake. */
  greetingMs: number;
  /** Longest silence from the server once the session is up, the reply to the final dot included. */
  dataMs: number;
}

export const DEFAULT_TIMEOUTS: SessionTimeouts = { connectMs: 15_000, greetingMs: 30_000, dataMs: 120_000 };

export interface SessionOptions {
  ip: string;
  port: number;
  /** The MX host name: TLS server name (SNI) and what the certificate is checked against. */
  mxName: string;
  /** Our name in EHLO. */
  heloName: string;
  timeouts: SessionTimeouts;
  /** false skips STARTTLS: the plaintext retry after a failed handshake, as Postfix's "may" does. */
  startTls: boolean;
  /**
   * true (an MTA-STS `enforce` policy): STARTTLS must happen and the certificate must verify for
   * mxName, or the session fails with code ETLS; nothing is ever sent in clear.
   */
  requireVerifiedTls?: boolean;
  /** Trusted roots; undefined: Node's default store (system CAs plus NODE_EXTRA_CA_CERTS). */
  ca?: string[];
  /** For a relay host that wants it. Never sent unencrypted to a server whose STARTTLS failed. */
  auth?: { user: string; pass: string } | null;
}

export interface RecipientReply {
  recipient: string;
  /** True: the server took the message for this recipient (a 250 to the final dot). */
  ok: boolean;
  /** The server's reply for this recipient: to RCPT when it refused there, else to the final dot. */
  reply: string;
}

export type TransactionResult =
  /** Every recipient has its reply. */
  | { kind: 'replies'; replies: RecipientReply[] }
  /** MAIL FROM was refused (or the message exceeds the server's announced SIZE): nothing was sent. */
  | { kind: 'sender-refused'; reply: string }
  /**
   * The session broke underway. `decided` holds the recipients refused before it did;
   * `mayHaveDelivered` is true once a recipient was accepted, since the message may then have
   * reached the server although its final reply never reached us.
   */
  | { kind: 'broken'; error: NodemailerError; decided: RecipientReply[]; mayHaveDelivered: boolean };

/** The envelope object nodemailer fills in while sending; we read the recipient lists back from it. */
interface TrackedEnvelope {
  from: string;
  to: string[];
  size: number;
  use8BitMime: boolean;
  accepted?: string[];
  rejectedErrors?: Array<NodemailerError & { recipient?: string }>;
}

export class SmtpSession implements Poolable {
  readonly tls: TlsFacts;
  /** Why the certificate did not verify for the MX name (e.g. a self-signed or mismatched one); null when it did or TLS was not used. */
  readonly certificateProblem: string | null;
  #conn: SMTPConnection;
  #broken = false;
  #transactionOpen = false;

  constructor(conn: SMTPConnection) {
    this.#conn = conn;
    this.tls = tlsFactsOf(conn);
    this.certificateProblem = certificateProblemOf(conn);
    conn.on('error', () => { this.#broken = true; });
    conn.on('end', () => { this.#broken = true; });
  }

  get usable(): boolean {
    return !this.#broken && !this.#conn.destroyed;
  }

  /**
   * True when the last transaction did not end with a reply to the final dot (a refused
   * sender or recipients, a broken exchange): the server may still hold it open, so the
   * next one must begin with RSET. After a final reply the server is ready for MAIL at once
   * (RFC 5321 4.1.1.4), and an RSET per message would cost a round trip for nothing.
   */
  get needsReset(): boolean {
    return this.#transactionOpen;
  }

  send(from: string, recipients: readonly string[], raw: Buffer): Promise<TransactionResult> {
    const envelope: TrackedEnvelope = { from, to: [...recipients], size: raw.length, use8BitMime: hasEightBitBytes(raw) };
    this.#transactionOpen = true;
    return new Promise((resolve) => {
      this.#conn.send(envelope, raw, (err, info) => {
        const endedByFinalReply = !err || ((err as NodemailerError).code === 'EMESSAGE' && (err as NodemailerError).command === 'DATA');
        if (endedByFinalReply) this.#transactionOpen = false;
        if (!err && info) {
          const refused = refusedReplies(info.rejectedErrors);
          const replies = recipients.map((recipient) => refused.get(recipient) ?? { recipient, ok: true, reply: info.response.trim() });
          return resolve({ kind: 'replies', replies });
        }
        resolve(failedTransaction(err as NodemailerError, envelope, recipients));
      });
    });
  }

  /** RSET: ends a transaction the server may still hold open (see needsReset). */
  reset(): Promise<void> {
    return new Promise((resolve, reject) => this.#conn.reset((err) => {
      if (err) return reject(err);
      this.#transactionOpen = false;
      resolve();
    }));
  }

  /** QUIT politely; drop the socket if the server does not answer it promptly. */
  close(): void {
    if (this.usable) {
      this.#conn.quit();
      setTimeout(() => this.#conn.close(), 1000).unref();
    } else {
      this.#conn.close();
    }
    this.#broken = true;
  }
}

/** Connects, greets, negotiates TLS and authenticates; rejects with the error that stopped it. */
export async function openSession(opts: SessionOptions): Promise<SmtpSession> {
  const socket = await connectTcp(opts.ip, opts.port, opts.timeouts.connectMs);
  const conn = new SMTPConnection({
    connection: socket,
    host: opts.ip,
    port: opts.port,
    // SNI must be a name, never an IP literal (RFC 6066 3).
    servername: net.isIP(opts.mxName) ? undefined : opts.mxName,
    name: opts.heloName,
    ignoreTLS: !opts.startTls && !opts.requireVerifiedTls,
    opportunisticTLS: !opts.requireVerifiedTls,
    requireTLS: opts.requireVerifiedTls === true,
    // Opportunistic TLS: an unverifiable certificate still beats plaintext; we record it instead.
    // Under an enforced MTA-STS policy it must verify, or the handshake fails.
    tls: { rejectUnauthorized: opts.requireVerifiedTls === true, ca: opts.ca },
    // With an already connected socket, connectionTimeout bounds the whole setup (greeting, EHLO, TLS).
    connectionTimeout: opts.timeouts.greetingMs,
    greetingTimeout: opts.timeouts.greetingMs,
    socketTimeout: opts.timeouts.dataMs,
    logger: false,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      conn.once('error', reject);
      conn.once('end', () => reject(Object.assign(new Error('connection closed during setup'), { code: 'ECONNECTION' })));
      conn.connect((err) => (err ? reject(err) : resolve()));
    });
    if (opts.auth) {
      const { user, pass } = opts.auth;
      await new Promise<void>((resolve, reject) => conn.login({ user, pass }, (err) => (err ? reject(err) : resolve())));
    }
  } catch (err) {
    conn.on('error', () => {}); // late errors of a session we are abandoning
    const duringTls = conn.upgrading === true;
    conn.close();
    // A handshake that dies surfaces as a plain socket error; say it was TLS, so the caller can
    // retry in plaintext.
    if (duringTls && (err as NodemailerError).code !== 'ETLS') {
      throw Object.assign(new Error(`STARTTLS handshake: ${(err as Error).message}`, { cause: err }), { code: 'ETLS' });
    }
    throw err;
  }
  return new SmtpSession(conn);
}

function connectTcp(ip: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: ip, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`connecting to ${ip}:${port} took longer than ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function tlsFactsOf(conn: SMTPConnection): TlsFacts {
  const socket = conn._socket;
  if (!conn.secure || !(socket instanceof tls.TLSSocket)) return { used: false };
  return { used: true, version: socket.getProtocol() ?? undefined, authorized: socket.authorized };
}

function certificateProblemOf(conn: SMTPConnection): string | null {
  const socket = conn._socket;
  if (!conn.secure || !(socket instanceof tls.TLSSocket) || socket.authorized) return null;
  const error = socket.authorizationError as unknown;
  return error instanceof Error ? error.message : String(error ?? 'the certificate could not be verified');
}

function hasEightBitBytes(raw: Buffer): boolean {
  for (let i = 0; i < raw.length; i++) if (raw[i] > 0x7f) return true;
  return false;
}

function refusedReplies(errors: TrackedEnvelope['rejectedErrors']): Map<string, RecipientReply> {
  const refused = new Map<string, RecipientReply>();
  for (const e of errors ?? []) {
    if (e.recipient) refused.set(e.recipient, { recipient: e.recipient, ok: false, reply: (e.response ?? e.message).trim() });
  }
  return refused;
}

function failedTransaction(err: NodemailerError, envelope: TrackedEnvelope, recipients: readonly string[]): TransactionResult {
  const refused = refusedReplies(envelope.rejectedErrors ?? (err as { rejectedErrors?: TrackedEnvelope['rejectedErrors'] }).rejectedErrors);
  const response = typeof err.response === 'string' ? err.response.trim() : '';

  if (err.command === 'MAIL FROM' && response) return { kind: 'sender-refused', reply: response };
  if (err.code === 'EENVELOPE' && err.command === 'API') {
    // nodemailer refused an address before saying anything (CR, LF or <> in it): it never will go.
    return { kind: 'sender-refused', reply: `553 5.1.3 ${err.message} (refused before sending)` };
  }
  if (err.code === 'EMESSAGE' && err.command === 'MAIL FROM') {
    // nodemailer refuses locally when the server's SIZE is smaller; say so in reply form.
    return { kind: 'sender-refused', reply: `552 5.3.4 ${err.message} (the message is ${envelope.size} bytes; refused before sending, per the server's SIZE)` };
  }
  // Every recipient refused at RCPT, or DATA / the final dot refused for the accepted ones.
  if ((err.code === 'EENVELOPE' || err.code === 'EMESSAGE') && response) {
    const replies = recipients.map((recipient) => refused.get(recipient) ?? { recipient, ok: false, reply: response });
    return { kind: 'replies', replies };
  }
  return {
    kind: 'broken',
    error: err,
    decided: [...refused.values()],
    mayHaveDelivered: (envelope.accepted?.length ?? 0) > 0,
  };
}
