/**
 * Secret keys: the SMTP password and the API bearer token. Shown once when
 * created, stored only as a hash, several per account, revocable.
 */
import type { Store } from '../store/database.ts';
import type { Kysely } from 'kysely';
import type { Database, SecretKeysTable } from '../store/schema.ts';
import { KEY_CHANNELS, type KeyScope } from '../policy/key-scope.ts';
import { keyUsageLast24h } from '../queue/usage.ts';
import { scopeFromInput, type KeyScopeInput } from './key-scope-input.ts';
import { newId } from '../store/ids.ts';
import { UserError } from '../errors.ts';
import { generateSecretKey, hashSecretKey, keyHint } from './secrets.ts';
import { normalizeEmail } from '../message/address.ts';

export interface CreatedKey {
  id: string;
  name: string;
  secret: string;
  createdAt: number;
  scope: KeyScope;
}

export interface KeySummary {
  id: string;
  name: string;
  hint: string;
  createdAt: number;
  lastUsedAt: number | null;
  lastUsedIp: string | null;
  revokedAt: number | null;
  scope: KeyScope;
  /** Emails sent with this key in the last 24 hours. */
  sentLast24h: number;
}

type ScopeColumns = Pick<SecretKeysTable, 'allowed_from' | 'daily_limit' | 'channel' | 'ip_ranges' | 'expires_at'>;

export function scopeOfRow(row: ScopeColumns): KeyScope {
  return {
    from: row.allowed_from === null ? null : JSON.parse(row.allowed_from) as string[],
    dailyLimit: row.daily_limit === null ? null : Number(row.daily_limit),
    channel: (KEY_CHANNELS as readonly string[]).includes(row.channel) ? row.channel as KeyScope['channel'] : 'full',
    ipRanges: row.ip_ranges === null ? null : JSON.parse(row.ip_ranges) as string[],
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
  };
}

function scopeColumns(scope: KeyScope): ScopeColumns {
  return {
    allowed_from: scope.from === null ? null : JSON.stringify(scope.from), daily_limit: scope.dailyLimit, channel: scope.channel,
    ip_ranges: scope.ipRanges === null ? null : JSON.stringify(scope.ipRanges), expires_at: scope.expiresAt,
  };
}

/** Creates a key; without `scopeInput` it may do all its account may (the contract's `keys create`). */
export async function createSecretKey(db: Kysely<Database>, accountId: string, name: string, scopeInput: KeyScopeInput = {}): Promise<CreatedKey> {
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.length > 100) throw new UserError('invalid', 'invalid_key_name', 'a key name must have 1 to 100 characters', 'name');
  const now = Date.now();
  const account = await db.selectFrom('accounts').select('daily_limit').where('id', '=', accountId).executeTakeFirstOrThrow();
  const domains = (await db.selectFrom('domains').select('name').where('account_id', '=', accountId).execute()).map((d) => d.name);
  const scope = scopeFromInput(scopeInput, { dailyLimit: account.daily_limit, domains }, now);
  const secret = generateSecretKey();
  const key = { id: newId(), name: trimmed, secret, createdAt: now, scope };
  await db.insertInto('secret_keys').values({
    id: key.id, account_id: accountId, name: trimmed, secret_hash: hashSecretKey(secret), hint: keyHint(secret),
    created_at: key.createdAt, last_used_at: null, revoked_at: null, last_used_ip: null, ...scopeColumns(scope),
  }).execute();
  return key;
}

/** One page of an account's keys, revoked ones included, ordered by id; `after` is the last id of the previous page. */
export async function listSecretKeys(store: Store, accountId: string, page: { limit?: number; after?: string | null } = {}, now = Date.now()): Promise<KeySummary[]> {
  let query = store.db.selectFrom('secret_keys').selectAll().where('account_id', '=', accountId).orderBy(page.limit === undefined ? 'created_at' : 'id');
  if (page.after) query = query.where('id', '>', page.after);
  if (page.limit !== undefined) query = query.limit(page.limit);
  const rows = await query.execute();
  const sent = await keyUsageLast24h(store.db, rows.map((row) => row.id), now);
  return rows.map((row) => ({
    id: row.id, name: row.name, hint: row.hint, createdAt: Number(row.created_at), lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
    lastUsedIp: row.last_used_ip, revokedAt: row.revoked_at === null ? null : Number(row.revoked_at), scope: scopeOfRow(row), sentLast24h: sent.get(row.id) ?? 0,
  }));
}

/** Whether the key exists and belongs to the account (another account's key is as unknown as none). */
export async function accountOwnsKey(store: Store, accountId: string, keyId: string): Promise<boolean> {
  return Boolean(await store.db.selectFrom('secret_keys').select('id').where('id', '=', keyId).where('account_id', '=', accountId).executeTakeFirst());
}

/** Revokes a key; `accountId` limits it to one account's keys (the API), null lets an operator revoke any. */
export async function revokeSecretKey(store: Store, keyId: string, accountId: string | null): Promise<void> {
  let query = store.db.updateTable('secret_keys').set({ revoked_at: Date.now() }).where('id', '=', keyId).where('revoked_at', 'is', null);
  if (accountId) query = query.where('account_id', '=', accountId);
  const result = await query.executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) {
    // Already revoked is fine; another account's key is as unknown as no key at all.
    let lookup = store.db.selectFrom('secret_keys').select('revoked_at').where('id', '=', keyId);
    if (accountId) lookup = lookup.where('account_id', '=', accountId);
    if (!(await lookup.executeTakeFirst())) throw new UserError('not-found', 'unknown_key', `no secret key with the id ${keyId}`, 'id');
  }
}

export type KeyLookup =
  | { ok: true; keyId: string; accountId: string; email: string; dailyLimit: number; isAdmin: boolean; lastUsedAt: number | null; scope: KeyScope; sandbox: boolean }
  | { ok: false; reason: 'unknown-account' | 'wrong-key' | 'revoked-key' };

// last_used_at (and the address with it) is refreshed at most this often, so a
// client that logs in for every message does not cost a durable write each time.
const LAST_USED_RESOLUTION_MS = 60_000;

/** Where a successful check notes the key's use instead of writing it at once (see key-use-log.ts). */
export interface KeyUse {
  keyId: string;
  at: number;
  ip: string | null;
}

export interface KeyUses {
  used(keyId: string, at: number, ip: string | null): void;
}

/**
 * Finds the live key for a credential: username = account email (SMTP only),
 * password = the secret. Whether it may be used here is for accounts/authorise.ts.
 */
export async function findKeyBySecret(store: Store, secret: string, email: string | null): Promise<KeyLookup> {
  const row = await store.db.selectFrom('secret_keys')
    .innerJoin('accounts', 'accounts.id', 'secret_keys.account_id')
    .select(['secret_keys.id as keyId', 'secret_keys.revoked_at', 'secret_keys.last_used_at', 'accounts.id as accountId', 'accounts.email', 'accounts.daily_limit',
      'accounts.is_admin', 'secret_keys.allowed_from', 'secret_keys.daily_limit as key_daily_limit', 'secret_keys.channel', 'secret_keys.ip_ranges', 'secret_keys.expires_at',
      'accounts.sandbox as account_sandbox', 'secret_keys.sandbox as key_sandbox'])
    .where('secret_keys.secret_hash', '=', hashSecretKey(secret))
    .executeTakeFirst();
  if (!row || (email !== null && row.email !== normalizeEmail(email))) {
    if (email !== null) {
      const account = await store.db.selectFrom('accounts').select('id').where('email', '=', normalizeEmail(email)).executeTakeFirst();
      if (!account) return { ok: false, reason: 'unknown-account' };
    }
    return { ok: false, reason: 'wrong-key' };
  }
  if (row.revoked_at !== null) return { ok: false, reason: 'revoked-key' };
  return {
    ok: true, keyId: row.keyId, accountId: row.accountId, email: row.email, dailyLimit: row.daily_limit, isAdmin: Boolean(row.is_admin),
    sandbox: Number(row.account_sandbox) === 1 || Number(row.key_sandbox) === 1,
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
    scope: scopeOfRow({ allowed_from: row.allowed_from, daily_limit: row.key_daily_limit, channel: row.channel, ip_ranges: row.ip_ranges, expires_at: row.expires_at }),
  };
}

/**
 * Notes a successful use of a key: when, and from which client address (at most once a minute).
 * With `uses` it is handed over for a bulk write instead of written at once.
 */
export async function recordKeyUse(store: Store, key: { keyId: string; lastUsedAt: number | null }, ip: string | null, now: number, uses?: KeyUses): Promise<void> {
  if (key.lastUsedAt !== null && now - key.lastUsedAt <= LAST_USED_RESOLUTION_MS) return;
  if (uses) uses.used(key.keyId, now, ip);
  else await store.db.updateTable('secret_keys').set({ last_used_at: now, last_used_ip: ip }).where('id', '=', key.keyId).execute();
}

/** The bulk write behind KeyUses: each key's last use, never moved back in time. */
export async function touchSecretKeys(db: Kysely<Database>, uses: readonly KeyUse[]): Promise<void> {
  for (const { keyId, at, ip } of uses) {
    await db.updateTable('secret_keys').set({ last_used_at: at, last_used_ip: ip }).where('id', '=', keyId)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)])).execute();
  }
}
