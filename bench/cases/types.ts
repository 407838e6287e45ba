/**
 * A case is one row of the table: something started, one load driven
 * against it, figures back. A case kind turns the run's options into cases;
 * adding a kind (e.g. end-to-end delivery) is a new file listed in index.ts.
 */
import type { BenchOptions, SessionMode, StoreName } from '../options.ts';
import type { LoadResult, TlsMode } from '../load/job.ts';

/** `reused`: each client logs in once and sends one message after another; `per-message`: a new session per message. */
export type { SessionMode };

/** One combination of message size, transport and session pattern that every kind is run at. */
export interface Variant {
  size: number;
  tls: TlsMode;
  sessions: SessionMode;
}

export interface BenchCase {
  kind: string;
  /** null for cases that store nothing (the ceiling). */
  store: StoreName | null;
  size: number;
  tls: TlsMode;
  sessions: SessionMode;
  connections: number;
  run(): Promise<LoadResult>;
}

export interface CaseKind {
  name: string;
  /** One line for the README and --help: what this kind measures. */
  description: string;
  plan(variant: Variant, options: BenchOptions): BenchCase[];
}

/** Thrown by run() when the case cannot be run here (e.g. no PostgreSQL); the row shows the reason. */
export class CaseSkipped extends Error {}
