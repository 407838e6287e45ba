/** The first start creates an admin login for the dashboard and prints it once. */
import type { Store } from '../store/database.ts';
import type { Config } from '../config/options.ts';
import { createAccount } from './accounts.ts';
import { isEmailAddress } from '../message/address.ts';
import { UserError } from '../errors.ts';

export async function ensureAdminAccount(store: Store, config: Config): Promise<{ created: boolean; email: string; password?: string }> {
  const existing = await store.db.selectFrom('accounts').select('email').where('is_admin', '=', 1).executeTakeFirst();
  if (existing) return { created: false, email: existing.email };
  const candidate = `admin@${config.hostname}`;
  const email = isEmailAddress(candidate) ? candidate : `admin@${config.hostname}.local`;
  try {
    const created = await createAccount(store, { email, dailyLimit: config.defaultDailyLimit, isAdmin: true });
    return { created: true, email: created.account.email, password: created.password };
  } catch (error) {
    // Another node starting at the same moment created it first.
    if (error instanceof UserError && error.kind === 'conflict') return { created: false, email };
    throw error;
  }
}
