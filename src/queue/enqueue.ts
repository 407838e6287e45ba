/**
 * Durable acceptance with group commit.
 *
 * A message is acknowledged (SMTP 250, HTTP 202) only after its body and one
 * delivery row per recipient are committed. The body lives in the store, not
 * in a spool file: one commit then covers body and queue rows together (no
 * window where one exists without the other), and every node of a PostgreSQL
 * cluster can deliver any message.
 *
 * Each commit costs an fsync, so submissions that arrive while one commit is
 * running wait and go into the next one together: under load, one fsync
 * acknowledges many messages; when idle, a message commits alone at once.
 * Nobody is acknowledged before the commit that holds their message.
 */
import type { Kysely } from 'kysely';
import type { Engine } from '../store/database.ts';
import type { Database, DeliveriesTable, MessagesTable } from '../store/schema.ts';
import { newId } from '../store/ids.ts';
import { lockAccounts } from '../store/locks.ts';
import { checkDailyLimit, checkKeyDailyLimit } from '../policy/limits.ts';
import type { Refusal, ScopeHolder } from '../policy/refusal.ts';
import { domainOf } from '../message/address.ts';
import { addKeyUsage, addUsage, readKeyUsage, readUsage } from './usage.ts';
import { recordEvents } from './message-events.ts';
import type { QueueWriter } from './writer.ts';
import { addStoredBytes, readStoredBytes } from './stored-bytes.ts';
import type { TemplateUse } from '../templates/templates.ts';

export interface Submission {
  /** Chosen by the caller, so trace headers written before the commit can name it. */
  id: string;
  /** null for mail Mailroom writes itself (DSNs), which no account limit applies to. */
  accountId: string | null;
  dailyLimit: number | null;
  /** The secret key or device it was sent by (none: dashboard, DSN), counted per identity; its own limit, if it has one. */
  identity?: SenderIdentity | null;
  mailFrom: string;
  headerFrom: string;
  subject: string;
  raw: Buffer;
  recipients: readonly string[];
  /**
   * Recipients on the account's suppression list, recorded as `suppressed` and never
   * attempted (the API takes a message whose other recipients may be sent to; SMTP refuses
   * them at RCPT instead). They are not emails sent, so no limit counts them.
   */
  suppressed?: readonly SuppressedRecipient[];
  source: 'smtp' | 'api' | 'dsn';
  tags: readonly string[];
  clientIp: string | null;
  idempotencyKey: string | null;
  /** The stored template version the message was rendered from (API sends only). */
  template?: TemplateUse | null;
  /** Sandbox mode: recorded as `sandboxed`, signed at acceptance, never delivered (accounts/sandbox.ts). */
  sandbox?: boolean;
  /** The DKIM-Signature header made at acceptance (sandboxed mail only). */
  dkimSignature?: string | null;
  /** A scheduled send: recipients wait as `scheduled` until this time (schedule.ts). */
  sendAt?: number | null;
}

export interface SenderIdentity {
  id: string;
  holder: ScopeHolder;
  dailyLimit: number | null;
}

export interface SuppressedRecipient {
  address: string;
  /** Why, in words, for the message log: the suppression's reason and date. */
  reply: string;
}

export type EnqueueResult =
  | { ok: true; id: string; duplicate: boolean }
  | { ok: false; refusal: Refusal };

export interface CommittedMessage {
  id: string;
  recipients: readonly string[];
  /** What was committed, for whoever can use it without reading it back (the delivery worker). */
  submission: Submission;
  /** The message's created_at. */
  committedAt: number;
}

export interface EnqueuerOptions {
  now?: () => number;
  /** Told after each commit, e.g. to wake the delivery workers and count acceptances. */
  onCommitted?: (committed: CommittedMessage[]) => void;
  /** Body bytes an account may hold (MAILROOM_STORAGE_BUDGET); null or absent: no budget. */
  storageBudget?: number | null;
  /** Says when the data directory is short of space (disk-guard.ts): then nothing is committed. */
  diskSpaceLow?: () => boolean;
  /** Signs a sandboxed message before its commit (it has no delivery attempt to be signed at). */
  signSandboxed?: (submission: Submission) => Promise<string | null>;
}

export class Enqueuer {
  readonly #commit: (submission: Submission) => Promise<EnqueueResult>;
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #diskSpaceLow: () => boolean;
  readonly #signSandboxed: EnqueuerOptions['signSandboxed'];

  /**
   * `writer` runs the commits, group-committed with whatever else it is asked meanwhile
   * (writer.ts): in this thread's transactions, or on the SQLite writer thread.
   */
  constructor(writer: QueueWriter, options: EnqueuerOptions = {}) {
    const now = options.now ?? Date.now;
    const onCommitted = options.onCommitted ?? (() => {});
    const storageBudget = options.storageBudget ?? null;
    this.#diskSpaceLow = options.diskSpaceLow ?? (() => false);
    this.#signSandboxed = options.signSandboxed;
    this.#commit = async (submission) => {
      const committedAt = now();
      const [result] = await writer.run('commitSubmissions', { submissions: [submission], now: committedAt, storageBudget });
      try {
        if (result.ok && !result.duplicate) onCommitted([{ id: result.id, recipients: submission.recipients, submission, committedAt }]);
      } catch (error) {
        // The message is committed whatever a listener does: its caller must still hear so.
        process.emitWarning(`onCommitted failed: ${(error as Error).stack ?? error}`);
      }
      return result;
    };
  }

  async enqueue(submission: Submission): Promise<EnqueueResult> {
    // Refused before the commit rather than failed by it: a full disk must never be where we find out.
    if (this.#diskSpaceLow()) return { ok: false, refusal: { kind: 'disk-space-low' } };
    if (submission.sandbox && this.#signSandboxed) submission = { ...submission, dkimSignature: await this.#signSandboxed(submission) };
    const committing = this.#commit(submission);
    this.#inFlight.add(committing);
    void committing.catch(() => {}).finally(() => this.#inFlight.delete(committing));
    return committing;
  }

  /** Resolves once everything submitted so far is committed (or failed). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
  }
}

/**
 * One group commit's submissions (QUEUE_WRITES in write-operations.ts runs every commitSubmissions
 * request of a batch as one call): the limit checks (under row locks on PostgreSQL) and the
 * inserts of every accepted submission, in the caller's transaction.
 */
export async function commitSubmissions(
  tx: Kysely<Database>, engine: Engine, submissions: readonly Submission[], now: number, storageBudget: number | null = null,
): Promise<EnqueueResult[]> {
  const limitedAccounts = [...new Set(submissions.flatMap((s) => (s.accountId && s.dailyLimit !== null ? [s.accountId] : [])))];
  const budgetedAccounts = storageBudget === null ? [] : [...new Set(submissions.flatMap((s) => (s.accountId ? [s.accountId] : [])))];
  await lockAccounts(tx, engine, [...new Set([...limitedAccounts, ...budgetedAccounts])]);
  const usage = new Map<string, Awaited<ReturnType<typeof readUsage>>>();
  for (const accountId of limitedAccounts) usage.set(accountId, await readUsage(tx, accountId, now));
  const stored = await readStoredBytes(tx, budgetedAccounts);

  // A key or device belongs to one account, so the account's lock above also serialises its own check.
  const keyUsage = new Map<string, Awaited<ReturnType<typeof readKeyUsage>>>();
  for (const id of new Set(submissions.flatMap((s) => (s.identity && s.identity.dailyLimit !== null ? [s.identity.id] : [])))) {
    keyUsage.set(id, await readKeyUsage(tx, id, now));
  }

  const results: EnqueueResult[] = [];
  const accepted: Submission[] = [];
  const added = new Map<string, number>();
  const addedByKey = new Map<string, number>();
  const keysInBatch = new Map<string, string>();
  for (const submission of submissions) {
    const batchKey = submission.idempotencyKey ? `${submission.accountId}\n${submission.idempotencyKey}` : null;
    const duplicateId = (batchKey && keysInBatch.get(batchKey)) || (await findIdempotentMessage(tx, submission));
    if (duplicateId) {
      results.push({ ok: true, id: duplicateId, duplicate: true });
      continue;
    }
    if (storageBudget !== null && submission.accountId) {
      const held = stored.get(submission.accountId) ?? 0;
      if (held + submission.raw.length > storageBudget) {
        results.push({ ok: false, refusal: { kind: 'storage-budget', budget: storageBudget, used: held } });
        continue;
      }
    }
    if (submission.accountId && submission.dailyLimit !== null) {
      const fact = usage.get(submission.accountId)!;
      const verdict = checkDailyLimit(fact, submission.recipients.length, submission.dailyLimit, now);
      if (!verdict.ok) {
        results.push(verdict);
        continue;
      }
      const identity = submission.identity;
      const keyFact = identity ? keyUsage.get(identity.id) : undefined;
      if (identity && keyFact && identity.dailyLimit !== null) {
        const keyVerdict = checkKeyDailyLimit(keyFact, submission.recipients.length, identity.dailyLimit, now, identity.holder);
        if (!keyVerdict.ok) {
          results.push(keyVerdict);
          continue;
        }
        keyFact.used += submission.recipients.length;
      }
      fact.used += submission.recipients.length;
      added.set(submission.accountId, (added.get(submission.accountId) ?? 0) + submission.recipients.length);
    }
    if (submission.identity) addedByKey.set(submission.identity.id, (addedByKey.get(submission.identity.id) ?? 0) + submission.recipients.length);
    if (batchKey) keysInBatch.set(batchKey, submission.id);
    if (submission.accountId) stored.set(submission.accountId, (stored.get(submission.accountId) ?? 0) + submission.raw.length);
    accepted.push(submission);
    results.push({ ok: true, id: submission.id, duplicate: false });
  }
  await insertQueuedMessages(tx, accepted, now);
  for (const [accountId, count] of added) await addUsage(tx, accountId, now, count);
  await addStoredBytes(tx, bytesByAccount(accepted));
  // Per-key counts ride in the same group commit: no write of their own.
  for (const [keyId, count] of addedByKey) await addKeyUsage(tx, keyId, now, count);
  return results;
  }

/**
 * Writes messages with one queued delivery (and one `accepted` event) per
 * recipient, inside the caller's transaction. Also used for DSNs, which are
 * queued in the same transaction as the bounce that causes them.
 */
export async function insertQueuedMessages(tx: Kysely<Database>, submissions: readonly Submission[], now: number): Promise<void> {
  const messages = submissions.map((s) => messageRow(s, now));
  const deliveries = submissions.flatMap((s) => s.recipients.map((recipient) => (s.sandbox
    ? { ...deliveryRow(s.id, s.accountId, recipient, now), status: 'sandboxed' as const, last_reply: SANDBOXED_REPLY }
    : s.sendAt ? { ...deliveryRow(s.id, s.accountId, recipient, now), status: 'scheduled' as const, next_attempt_at: s.sendAt }
    : deliveryRow(s.id, s.accountId, recipient, now))));
  const suppressed = submissions.flatMap((s) => (s.suppressed ?? []).map((r) => ({
    ...deliveryRow(s.id, s.accountId, r.address, now), status: 'suppressed' as const, last_reply: r.reply,
  })));
  // Multi-row inserts, chunked to stay under SQLite's bound-parameter limit.
  for (const chunk of chunks(messages, 200)) await tx.insertInto('messages').values(chunk).execute();
  const templateUses = submissions.flatMap((s) => (s.template ? [{ message_id: s.id, template_id: s.template.templateId, template_name: s.template.name, version: s.template.version }] : []));
  for (const chunk of chunks(templateUses, 200)) await tx.insertInto('message_templates').values(chunk).execute();
  for (const chunk of chunks([...deliveries, ...suppressed], 500)) await tx.insertInto('deliveries').values(chunk).execute();
  await recordEvents(tx, [
    ...deliveries.map((d) => ({ accountId: d.account_id, messageId: d.message_id, deliveryId: d.id, recipient: d.recipient, type: 'accepted' as const, at: now })),
    ...deliveries.filter((d) => d.status === 'sandboxed').map((d) => ({
      accountId: d.account_id, messageId: d.message_id, deliveryId: d.id, recipient: d.recipient, type: 'sandboxed' as const, reply: d.last_reply, at: now,
    })),
    ...deliveries.filter((d) => d.status === 'scheduled').map((d) => ({
      accountId: d.account_id, messageId: d.message_id, deliveryId: d.id, recipient: d.recipient, type: 'scheduled' as const,
      reply: `scheduled for ${new Date(d.next_attempt_at).toISOString()}`, at: now,
    })),
    ...suppressed.map((d) => ({
      accountId: d.account_id, messageId: d.message_id, deliveryId: d.id, recipient: d.recipient, type: 'suppressed' as const, reply: d.last_reply, at: now,
    })),
  ]);
}

async function findIdempotentMessage(tx: Kysely<Database>, submission: Submission): Promise<string | null> {
  if (!submission.idempotencyKey || !submission.accountId) return null;
  const row = await tx.selectFrom('messages').select('id')
    .where('account_id', '=', submission.accountId).where('idempotency_key', '=', submission.idempotencyKey)
    .executeTakeFirst();
  return row?.id ?? null;
}

function messageRow(s: Submission, now: number): MessagesTable {
  return {
    id: s.id, account_id: s.accountId, mail_from: s.mailFrom, header_from: s.headerFrom, subject: s.subject, size: s.raw.length,
    raw: s.raw, dkim_signature: s.dkimSignature ?? null, source: s.source, tags: JSON.stringify(s.tags), client_ip: s.clientIp,
    idempotency_key: s.idempotencyKey, created_at: now, body_expired_at: null,
  };
}

/** What the message log says of a sandboxed recipient. */
export const SANDBOXED_REPLY = 'sandbox mode: accepted, checked, signed and recorded; delivered nowhere';

function deliveryRow(messageId: string, accountId: string | null, recipient: string, now: number): DeliveriesTable {
  return {
    id: newId(), message_id: messageId, account_id: accountId, recipient, recipient_domain: domainOf(recipient),
    status: 'queued', attempt_count: 0, next_attempt_at: now, lease_owner: null, last_reply: null, created_at: now, updated_at: now,
  };
}

function bytesByAccount(submissions: readonly Submission[]): Map<string, number> {
  const bytes = new Map<string, number>();
  for (const s of submissions) if (s.accountId) bytes.set(s.accountId, (bytes.get(s.accountId) ?? 0) + s.raw.length);
  return bytes;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
