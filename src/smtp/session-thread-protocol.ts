/**
 * What the main thread and the SMTP session threads (session-threads.ts,
 * session-thread.ts) say to each other. Everything is plain data.
 */
import type { Config } from '../config/options.ts';
import type { EnqueueResult, Submission } from '../queue/enqueue.ts';
import type { ObservedSession, SessionEvent } from './session-observer.ts';
import type { TlsCredentials } from '../tls/credentials.ts';
import type { OperationName } from '../queue/write-set.ts';
import type { AccountWrites } from '../accounts/account-writes.ts';

export interface Ports {
  submission: number | null;
  submissions: number | null;
}

export interface SessionThreadData {
  config: Config;
  tls: TlsCredentials;
  /** TLS session ticket keys shared by every thread (a reconnecting client may land on another). */
  ticketKeys: Uint8Array;
}

/** What an observer reads of a session, as posted between threads (`user`: whether someone logged in). */
export type SessionFacts = ObservedSession & { user: boolean };

export interface TlsErrorFacts {
  message: string;
  code?: string;
  remoteAddress?: string;
  meta?: { stage?: string; remoteAddress?: string; tlsProtocol?: string | null; message?: string };
}

export type ToMain =
  | { type: 'loaded' }
  | { type: 'ready'; ports: Ports }
  | { type: 'failed'; error: string }
  | { type: 'enqueue'; seq: number; submission: Submission }
  /** A queue write (the login throttle's counters) for the main thread's one queue writer. */
  | { type: 'write'; seq: number; name: OperationName<AccountWrites>; args: unknown }
  | { type: 'note'; session: SessionFacts; event: SessionEvent }
  | { type: 'closed'; session: SessionFacts; listener: string }
  | { type: 'tls-error'; listener: string; error: TlsErrorFacts }
  | { type: 'key-used'; keyId: string; at: number; ip: string | null }
  | { type: 'certificate-set'; seq: number }
  | { type: 'stopped' };

export type ToThread =
  | { type: 'enqueued'; seq: number; result: EnqueueResult }
  | { type: 'enqueue-failed'; seq: number; error: string }
  | { type: 'written'; seq: number; result: unknown }
  | { type: 'write-failed'; seq: number; error: string }
  | { type: 'listen'; ports: Ports }
  | { type: 'certificate'; seq: number; tls: TlsCredentials }
  | { type: 'stop' };
