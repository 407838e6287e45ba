/**
 * What the submission listeners tell whoever watches their sessions: how each
 * AUTH went, what was refused, each message accepted, the session's end, and
 * TLS handshakes that failed before any session began. The SMTP door defines
 * it; the Send-As doctor's recorder (doctor/session-recorder.ts) implements
 * it, and src/main.ts hands one to the listeners — so smtp/ never imports
 * the doctor.
 */
import type { Refusal } from '../policy/refusal.ts';
import type { SMTPServerSession } from './library.ts';

export type AuthFailure = 'wrong-key' | 'revoked-key' | 'unknown-account' | 'throttled' | 'key-expired' | 'key-wrong-channel' | 'key-ip-not-allowed';

export type SessionEvent =
  | { kind: 'auth-succeeded'; method: string; user: string; accountId: string }
  | { kind: 'auth-failed'; method: string; user: string; reason: AuthFailure }
  | { kind: 'refused'; refusal: Refusal }
  | { kind: 'accepted' };

/**
 * The parts of a session an observer may read. They are plain data, so a
 * session thread can post them to the main thread (`user`: whether someone
 * logged in).
 */
export type ObservedSession = Pick<SMTPServerSession, 'id' | 'remoteAddress' | 'secure' | 'tlsOptions' | 'servername' | 'hostNameAppearsAs'> & { user?: unknown };

/** Whatever emits a listener's server errors (the server itself, or a session thread's messenger). */
export interface ErrorSource {
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export interface SessionObserver {
  note(session: ObservedSession, event: SessionEvent): void;
  /** Called from the session's close. */
  closed(session: ObservedSession, listener: string): void;
  /** Handshake failures never reach a session handler; the library reports them as server errors. */
  watchTlsErrors(server: ErrorSource, listener: string): void;
}
