/**
 * Remembers how recent SMTP sessions went, for the Send-As doctor: one row per
 * session that tried to log in, was refused something, or failed TLS, with
 * the client's address, listener, TLS version and cipher, SNI and AUTH
 * mechanism and user.
 *
 * The SMTP handlers only call note() and closed(), which touch memory; rows
 * go to the queue writer every second or so, in one operation (never a
 * commit per SMTP command, never a commit on this thread: on SQLite the
 * writer thread folds them into a commit it makes anyway), and each account
 * keeps only its last sessions. It is a diagnostic: when the store cannot
 * take a batch, the batch is dropped with a warning rather than slowing mail
 * down.
 */
import { DeferredFlush } from '../queue/deferred-flush.ts';
import type { Logger } from 'pino';
import type { QueueWriter } from '../queue/writer.ts';
import type { DoctorWrites } from './session-log-writes.ts';
import type { ErrorSource, ObservedSession, SessionEvent, SessionObserver } from '../smtp/session-observer.ts';
import { outcomeColumns, type SessionOutcome } from './session-outcome.ts';

export interface SessionRecorderOptions {
  flushMs?: number;
  /** Sessions kept per account (and for sessions tied to no account). */
  keep?: number;
  /** Rows waiting for the store beyond this are dropped, oldest first. */
  maxPending?: number;
}

interface Notes {
  user: string | null;
  accountId: string | null;
  method: string | null;
  outcome: SessionOutcome;
  messages: number;
}

interface Row {
  accountId: string | null;
  username: string | null;
  at: number;
  listener: string;
  clientIp: string;
  tlsVersion: string | null;
  tlsCipher: string | null;
  sni: string | null;
  authMethod: string | null;
  outcome: SessionOutcome;
  messages: number;
}

/** What smtp-server puts on errors of a failed TLS handshake (implicit TLS and STARTTLS). */
interface HandshakeError extends Error {
  code?: string;
  remoteAddress?: string;
  meta?: { stage?: string; remoteAddress?: string; tlsProtocol?: string | null; message?: string };
}

export class SessionRecorder implements SessionObserver {
  readonly #writer: Pick<QueueWriter<DoctorWrites>, 'run'>;
  readonly #logger: Logger;
  readonly #keep: number;
  readonly #maxPending: number;
  readonly #notes = new Map<string, Notes>();
  #pending: Row[] = [];
  readonly #flusher: DeferredFlush;

  constructor(writer: Pick<QueueWriter<DoctorWrites>, 'run'>, logger: Logger, options: SessionRecorderOptions = {}) {
    this.#writer = writer;
    this.#logger = logger;
    this.#flusher = new DeferredFlush(() => this.#write(), options.flushMs ?? 1000);
    this.#keep = options.keep ?? 50;
    this.#maxPending = options.maxPending ?? 5000;
  }

  note(session: ObservedSession, event: SessionEvent): void {
    const notes = this.#notes.get(session.id) ?? { user: null, accountId: null, method: null, outcome: { kind: 'ok' }, messages: 0 };
    this.#notes.set(session.id, notes);
    switch (event.kind) {
      case 'auth-succeeded':
        Object.assign(notes, { user: event.user, accountId: event.accountId, method: event.method, outcome: { kind: 'ok' } });
        break;
      case 'auth-failed':
        Object.assign(notes, { user: event.user, method: event.method, outcome: { kind: 'auth-failed', reason: event.reason } });
        break;
      case 'refused':
        notes.outcome = { kind: 'refused', refusal: event.refusal };
        break;
      case 'accepted':
        notes.messages += 1;
        break;
    }
  }

  /** Called from the session's close: the row is complete now. */
  closed(session: ObservedSession, listener: string): void {
    const notes = this.#notes.get(session.id);
    this.#notes.delete(session.id);
    // A client that completes the handshake and leaves without a word has, as a rule, refused our certificate.
    const abandonedAfterTls = session.secure && !session.hostNameAppearsAs && !session.user;
    if (!notes && !abandonedAfterTls) return;
    const tls = session.secure && session.tlsOptions ? session.tlsOptions : null;
    this.#push({
      accountId: notes?.accountId ?? null, username: notes?.user ?? null, at: Date.now(), listener, clientIp: session.remoteAddress,
      tlsVersion: tls ? tls.version : null, tlsCipher: tls ? tls.name : null, sni: session.servername || null,
      authMethod: notes?.method ?? null, outcome: notes ? notes.outcome : { kind: 'tls-abandoned' }, messages: notes?.messages ?? 0,
    });
  }

  /** Handshake failures never reach a session handler; the library reports them as server errors. */
  watchTlsErrors(server: ErrorSource, listener: string): void {
    server.on('error', (raw) => {
      const error = raw as HandshakeError;
      if (error.meta?.stage !== 'connect') return;
      this.#push({
        accountId: null, username: null, at: Date.now(), listener, clientIp: error.meta.remoteAddress ?? error.remoteAddress ?? 'unknown',
        tlsVersion: error.meta.tlsProtocol ?? null, tlsCipher: null, sni: null, authMethod: null, messages: 0,
        outcome: { kind: 'tls-failed', code: error.code ?? null, message: error.meta.message ?? error.message },
      });
    });
  }

  /** Writes what is waiting; resolves once it is in the store (or dropped). */
  flush(): Promise<void> {
    return this.#flusher.flush();
  }

  stop(): Promise<void> {
    return this.#flusher.stop();
  }

  #push(row: Row): void {
    this.#pending.push(row);
    if (this.#pending.length > this.#maxPending) this.#pending.splice(0, this.#pending.length - this.#maxPending);
    this.#flusher.schedule();
  }

  async #write(): Promise<void> {
    const rows = this.#pending.splice(0);
    if (rows.length === 0) return;
    try {
      await this.#writer.run('recordSmtpSessions', {
        keep: this.#keep,
        rows: rows.map((row) => ({
          account_id: row.accountId, username: row.username, at: row.at, listener: row.listener, client_ip: row.clientIp,
          tls_version: row.tlsVersion, tls_cipher: row.tlsCipher, sni: row.sni, auth_method: row.authMethod, messages: row.messages,
          ...outcomeColumns(row.outcome),
        })),
      });
    } catch (error) {
      this.#logger.warn({ err: error, event: 'doctor.sessions_dropped', rows: rows.length }, `could not record ${rows.length} SMTP sessions for the doctor`);
    }
  }
}
