/**
 * Whose data a list shows: the signed-in account's, or — for an admin who asks
 * with `?account=EMAIL` or `?account=all` — another account's or everyone's.
 */
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { getAccountByEmail } from '../accounts/accounts.ts';
import type { Store } from '../store/database.ts';
import { principalOf } from './auth.ts';
import { ApiError } from './errors.ts';

export const AccountScopeQuery = {
  account: Type.Optional(Type.String({ maxLength: 254, description: 'admins only: an account\'s email, or "all" for every account (default: your own)' })),
};

/** The account id to filter by; null means every account. */
export async function accountScope(store: Store, request: FastifyRequest, requested: string | undefined): Promise<string | null> {
  const principal = principalOf(request);
  if (requested === undefined || requested === '' || requested.toLowerCase() === principal.email.toLowerCase()) return principal.accountId;
  if (!principal.isAdmin) throw new ApiError(403, 'forbidden', 'only an admin can read other accounts\' data; leave out account', 'account');
  if (requested === 'all') return null;
  return (await getAccountByEmail(store, requested)).id;
}
