/**
 * The Send-As doctor's writes: a batch of finished SMTP sessions goes in,
 * each account keeps only its last sessions. Runs on the queue writer (see
 * queue/write-set.ts), so the SMTP path never waits for its commit.
 */
import type { Insertable, Kysely } from 'kysely';
import type { Database, SmtpSessionsTable } from '../store/schema.ts';
import { operation, writeSet } from '../queue/write-set.ts';

export type SessionLogRow = Omit<Insertable<SmtpSessionsTable>, 'id'>;

export async function recordSmtpSessions(tx: Kysely<Database>, rows: readonly SessionLogRow[], keep: number): Promise<void> {
  if (rows.length === 0) return;
  const tied = await tieToAccounts(tx, rows);
  await tx.insertInto('smtp_sessions').values(tied).execute();
  for (const accountId of new Set(tied.map((row) => row.account_id ?? null))) {
    const byAccount = accountId === null ? tx.selectFrom('smtp_sessions').where('account_id', 'is', null) : tx.selectFrom('smtp_sessions').where('account_id', '=', accountId);
    const oldestKept = await byAccount.select('id').orderBy('id', 'desc').offset(keep - 1).limit(1).executeTakeFirst();
    if (!oldestKept) continue;
    let prune = tx.deleteFrom('smtp_sessions').where('id', '<', oldestKept.id);
    prune = accountId === null ? prune.where('account_id', 'is', null) : prune.where('account_id', '=', accountId);
    await prune.execute();
  }
}

/** A failed login names an account by its email; tie the session to it, so its owner sees the failure. */
async function tieToAccounts(tx: Kysely<Database>, rows: readonly SessionLogRow[]): Promise<SessionLogRow[]> {
  const emails = [...new Set(rows.filter((row) => !row.account_id && row.username).map((row) => row.username as string))];
  if (emails.length === 0) return [...rows];
  const accounts = await tx.selectFrom('accounts').select(['id', 'email']).where('email', 'in', emails).execute();
  const idOf = new Map(accounts.map((account) => [account.email, account.id]));
  return rows.map((row) => (!row.account_id && row.username ? { ...row, account_id: idOf.get(row.username) ?? null } : row));
}

const OPERATIONS = {
  /** The session log, buffered for about a second (session-recorder.ts). */
  recordSmtpSessions: operation((tx, _engine, { rows, keep }: { rows: readonly SessionLogRow[]; keep: number }) => recordSmtpSessions(tx, rows, keep)),
};

/** The doctor's writes for the queue writer (queue/write-set.ts). */
export const DOCTOR_WRITES = writeSet({ operations: OPERATIONS });
export type DoctorWrites = typeof OPERATIONS;
