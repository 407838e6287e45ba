/** Accounts: who may send, with which dashboard password, and how much a day. */
import type { Store } from '../store/database.ts';
import { newId } from '../store/ids.ts';
import { isUniqueViolation } from '../store/errors.ts';
import { UserError } from '../errors.ts';
import { isEmailAddress, normalizeEmail } from '../message/address.ts';
import { generatePassword, hashPassword } from './secrets.ts';
import { createSecretKey, type CreatedKey } from './keys.ts';

export interface Account {
  id: string;
  email: string;
  dailyLimit: number;
  isAdmin: boolean;
  createdAt: number;
}

export interface NewAccount {
  email: string;
  password?: string;
  dailyLimit: number;
  isAdmin?: boolean;
  /** Start in sandbox mode (accounts/sandbox.ts). */
  sandbox?: boolean;
}

export interface CreatedAccount {
  account: Account;
  password: string;
  key: CreatedKey;
}

export async function createAccount(store: Store, input: NewAccount): Promise<CreatedAccount> {
  const email = normalizeEmail(input.email);
  if (!isEmailAddress(email)) throw new UserError('invalid', 'invalid_email', `"${input.email}" is not an email address`, 'email');
  if (!Number.isInteger(input.dailyLimit) || input.dailyLimit < 1) {
    throw new UserError('invalid', 'invalid_daily_limit', 'the daily limit must be a whole number of at least 1', 'dailyLimit');
  }
  if (input.password !== undefined && input.password.length < 8) {
    throw new UserError('invalid', 'weak_password', 'the password must have at least 8 characters', 'password');
  }
  const password = input.password ?? generatePassword();
  const account: Account = { id: newId(), email, dailyLimit: input.dailyLimit, isAdmin: input.isAdmin ?? false, createdAt: Date.now() };
  const passwordHash = await hashPassword(password);
  try {
    const key = await store.db.transaction().execute(async (tx) => {
      await tx.insertInto('accounts').values({
        id: account.id, email, password_hash: passwordHash, daily_limit: account.dailyLimit,
        is_admin: account.isAdmin ? 1 : 0, created_at: account.createdAt, sandbox: input.sandbox ? 1 : 0,
      }).execute();
      return createSecretKey(tx, account.id, 'default');
    });
    return { account, password, key };
  } catch (error) {
    if (isUniqueViolation(error)) throw new UserError('conflict', 'account_exists', `an account for ${email} already exists`, 'email');
    throw error;
  }
}

type AccountRow = { id: string; email: string; daily_limit: number; is_admin: number; created_at: number };

function toAccount(row: AccountRow): Account {
  return { id: row.id, email: row.email, dailyLimit: row.daily_limit, isAdmin: row.is_admin === 1, createdAt: row.created_at };
}

export async function findAccountByEmail(store: Store, email: string): Promise<Account | null> {
  const row = await store.db.selectFrom('accounts').select(['id', 'email', 'daily_limit', 'is_admin', 'created_at'])
    .where('email', '=', normalizeEmail(email)).executeTakeFirst();
  return row ? toAccount(row) : null;
}

export async function getAccountByEmail(store: Store, email: string): Promise<Account> {
  const account = await findAccountByEmail(store, email);
  if (!account) throw new UserError('not-found', 'unknown_account', `no account with the email ${email}`, 'account');
  return account;
}

export async function findAccountById(store: Store, id: string): Promise<Account | null> {
  const row = await store.db.selectFrom('accounts').select(['id', 'email', 'daily_limit', 'is_admin', 'created_at'])
    .where('id', '=', id).executeTakeFirst();
  return row ? toAccount(row) : null;
}

/** Accounts by email (the CLI's list and the API's admin list); with `limit`, one page after the email `after`. */
export async function listAccounts(store: Store, page: { limit?: number; after?: string | null } = {}): Promise<Account[]> {
  let query = store.db.selectFrom('accounts').select(['id', 'email', 'daily_limit', 'is_admin', 'created_at']).orderBy('email');
  if (page.after) query = query.where('email', '>', page.after);
  if (page.limit !== undefined) query = query.limit(page.limit);
  return (await query.execute()).map(toAccount);
}

export async function setDailyLimit(store: Store, accountId: string, dailyLimit: number): Promise<void> {
  if (!Number.isInteger(dailyLimit) || dailyLimit < 1) {
    throw new UserError('invalid', 'invalid_daily_limit', 'the daily limit must be a whole number of at least 1', 'dailyLimit');
  }
  await store.db.updateTable('accounts').set({ daily_limit: dailyLimit }).where('id', '=', accountId).execute();
}

/**
 * Sets an account's dashboard password (the operator's reset: CLI and admin
 * page). Without one, a new password is generated; either way it is
 * returned once and ends every dashboard session of the account.
 */
export async function setPassword(store: Store, email: string, password?: string): Promise<{ account: Account; password: string }> {
  if (password !== undefined && password.length < 8) {
    throw new UserError('invalid', 'weak_password', 'the password must have at least 8 characters', 'password');
  }
  const account = await getAccountByEmail(store, email);
  const chosen = password ?? generatePassword();
  const passwordHash = await hashPassword(chosen);
  await store.db.transaction().execute(async (tx) => {
    await tx.updateTable('accounts').set({ password_hash: passwordHash }).where('id', '=', account.id).execute();
    await tx.deleteFrom('web_sessions').where('account_id', '=', account.id).execute();
  });
  return { account, password: chosen };
}
