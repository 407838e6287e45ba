/**
 * The doctor's view of recent SMTP sessions for one account: its own
 * sessions, and the TLS handshakes that failed before anyone logged in (so no
 * account is known). Those belong to the whole installation; a user sees
 * their client address only when that address also logged in to their
 * account, an administrator always.
 */
import type { Store } from '../store/database.ts';
import type { SmtpSessionsTable } from '../store/schema.ts';
import { explainOutcome, outcomeFromColumns, type Problem } from './session-outcome.ts';

export interface DoctorSession {
  at: string;
  clientIp: string;
  /** `submission` (plain, STARTTLS offered) or `submissions` (implicit TLS). */
  listener: string;
  tls: { version: string; cipher: string | null } | null;
  sni: string | null;
  auth: { mechanism: string; user: string | null } | null;
  result: 'ok' | 'failed';
  problem: Problem | null;
  /** Messages accepted in the session. */
  messages: number;
}

export interface HandshakeFailure {
  at: string;
  listener: string;
  clientIp: string | null;
  tlsVersion: string | null;
  problem: Problem;
}

export interface DoctorSessions {
  sessions: DoctorSession[];
  tlsFailures: HandshakeFailure[];
}

type Row = Omit<SmtpSessionsTable, 'id'> & { id: number };

export async function recentSessions(store: Store, accountId: string, options: { isAdmin: boolean; limit?: number }): Promise<DoctorSessions> {
  const limit = options.limit ?? 50;
  const own = await store.db.selectFrom('smtp_sessions').selectAll().where('account_id', '=', accountId)
    .orderBy('id', 'desc').limit(limit).execute() as Row[];
  const unattributed = await store.db.selectFrom('smtp_sessions').selectAll().where('account_id', 'is', null)
    .where('outcome', 'in', ['tls-failed', 'tls-abandoned']).orderBy('id', 'desc').limit(20).execute() as Row[];
  const knownAddresses = new Set(own.map((row) => row.client_ip));
  return {
    sessions: own.map(toSession),
    tlsFailures: unattributed.map((row) => ({
      at: new Date(row.at).toISOString(),
      listener: row.listener,
      clientIp: options.isAdmin || knownAddresses.has(row.client_ip) ? row.client_ip : null,
      tlsVersion: row.tls_version,
      problem: explainOutcome(outcomeFromColumns(row.outcome, row.detail)) as Problem,
    })),
  };
}

function toSession(row: Row): DoctorSession {
  const problem = explainOutcome(outcomeFromColumns(row.outcome, row.detail));
  return {
    at: new Date(row.at).toISOString(),
    clientIp: row.client_ip,
    listener: row.listener,
    tls: row.tls_version ? { version: row.tls_version, cipher: row.tls_cipher } : null,
    sni: row.sni,
    auth: row.auth_method ? { mechanism: row.auth_method, user: row.username } : null,
    result: problem ? 'failed' : 'ok',
    problem,
    messages: row.messages,
  };
}
