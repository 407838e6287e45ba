/** What the parent asks of the load generator process, and what it reports back. */
export type TlsMode = 'plain' | 'starttls';

export interface LoadTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  mailFrom: string;
  rcptTo: string;
}

export interface LoadJob {
  target: LoadTarget;
  tls: TlsMode;
  size: number;
  connections: number;
  warmupMs: number;
  measureMs: number;
  /** A new session (connect, EHLO, [STARTTLS], AUTH) for every message; latency is then the whole session. */
  sessionPerMessage: boolean;
  /** STARTTLS resumes the TLS session of the client's previous connection (session tickets), as Gmail does; nodemailer does not. */
  tlsResume?: boolean;
}

export interface LoadResult {
  /** Connections that got through EHLO/STARTTLS/AUTH and sent mail. */
  connected: number;
  /** Messages answered 250 after DATA within the measured window. */
  messages: number;
  seconds: number;
  perSecond: number;
  /** Latency from writing MAIL FROM (a session per message: from connecting) to reading the 250 after the message, in ms. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Refused messages and failed connections over the whole run. */
  errors: number;
  firstError: string | null;
  /** STARTTLS handshakes that resumed an earlier session, of all STARTTLS handshakes. */
  tlsResumed?: number;
  tlsHandshakes?: number;
  /** The key type of the server certificate the client negotiated ('ec': ECDSA, 'rsa'). */
  tlsKeyType?: string | null;
  /** CPU used during the measured window, in % of one core (200% = both cores of this machine). */
  clientCpu: number;
  serverCpu: number;
  /** Busy CPU of the whole machine beyond those two (other work on a shared machine skews the figures). */
  otherCpu: number;
  /** Bytes the server process caused to be written to storage over the measured window (/proc/<pid>/io). */
  serverWriteBytes?: number;
  /** The server's CPU over the window by thread name (MainThread, mailroom-writer, V8Worker = GC…), in microseconds. */
  serverThreadCpu?: Array<{ name: string; micros: number }>;
  /** The PostgreSQL server's processes over the window: bytes written, and CPU in % of one core (other databases' work included). */
  postgresWriteBytes?: number;
  postgresCpu?: number;
  /** End-to-end cases: the rate at which the same run's messages were accepted (250), while delivery ran too. */
  acceptedPerSecond?: number;
  /** End-to-end cases: the lowest share, at any whole second of submitting, of the mail accepted so far that had arrived. */
  slowestDeliveryPace?: number;
  /** Statements sent to the store per message (bench/tools/probe.ts); on PostgreSQL each is a round trip. */
  statementsPerMessage?: number;
  /** CPU time of the PostgreSQL backends serving the server, µs per message. */
  postgresMicrosPerMessage?: number;
  /** The server main thread's event-loop delay, p99 over the window, in ms. */
  loopDelayP99Ms?: number;
}

/** Sent by the generator to its parent as the measured window opens and closes, so the server's CPU can be sampled. */
export type WindowMark = { mark: 'open' | 'close' };
