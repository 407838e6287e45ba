/**
 * "Receive here": an account turns it on for an address on one of its
 * verified domains (or a subdomain of one), points that domain's MX at
 * Mailroom, and the mx listener then takes mail for exactly that address —
 * the confirmation Gmail sends to a "Send mail as" alias on a domain that has
 * no mailbox. Nothing else is received: every other address stays refused.
 */
import type { Store } from '../store/database.ts';
import type { ReceiveAddressesTable } from '../store/schema.ts';
import { newId } from '../store/ids.ts';
import { isUniqueViolation } from '../store/errors.ts';
import { UserError } from '../errors.ts';
import { domainOf, isEmailAddress, normalizeEmail } from '../message/address.ts';
import { HOSTNAME_FIX, hostnameProblem } from './server-host.ts';

export interface ReceiveAddress {
  address: string;
  /** The domain the MX record is published for: the address's own domain. */
  mxDomain: string;
  createdAt: number;
}

export interface MxRecordToPublish {
  type: 'MX';
  name: string;
  value: string;
  priority: number;
  /** Set when MAILROOM_HOSTNAME cannot work in the record yet, with the fix. */
  warning?: string;
}

const toAddress = (row: Pick<ReceiveAddressesTable, 'address' | 'created_at'>): ReceiveAddress => ({
  address: row.address, mxDomain: domainOf(row.address), createdAt: Number(row.created_at),
});

/** The record that sends the address's domain's mail to this server. */
export function mxRecordFor(address: string, serverHostname: string): MxRecordToPublish {
  const problem = hostnameProblem(serverHostname);
  return {
    type: 'MX', name: domainOf(address), value: serverHostname.toLowerCase(), priority: 10,
    ...(problem ? { warning: `Not usable yet: ${problem}. Fix: ${HOSTNAME_FIX}; the value then changes.` } : {}),
  };
}

/** Turns "receive here" on; the address must be on (or under) a verified domain of the account. */
export async function enableReceiveHere(store: Store, accountId: string, rawAddress: string): Promise<ReceiveAddress> {
  const address = normalizeEmail(rawAddress);
  if (!isEmailAddress(address)) throw new UserError('invalid', 'invalid_address', `"${rawAddress}" is not an email address`, 'address');
  const host = domainOf(address);
  const labels = host.split('.');
  const names = labels.slice(0, -1).map((_, i) => labels.slice(i).join('.'));
  // The most specific sending domain wins, whoever's it is: shop.example.com added by another
  // account is not this account's to receive for, even though example.com is.
  const domain = (await store.db.selectFrom('domains').select(['id', 'name', 'account_id', 'verified_at']).where('name', 'in', names).execute())
    .sort((a, b) => b.name.length - a.name.length)[0];
  if (!domain || domain.account_id !== accountId) {
    throw new UserError('invalid', 'address_outside_domains', `${address} is not on a domain of your account; add and verify ${host} (or its parent domain) under Settings -> Domains first`, 'address');
  }
  if (domain.verified_at === null) {
    throw new UserError('invalid', 'domain_not_verified', `${address} is on ${domain.name}, which is not verified yet; verify it under Settings -> Domains first`, 'address');
  }
  const row: ReceiveAddressesTable = { id: newId(), account_id: accountId, domain_id: domain.id, address, created_at: Date.now() };
  try {
    await store.db.insertInto('receive_addresses').values(row).execute();
  } catch (error) {
    if (isUniqueViolation(error)) throw new UserError('conflict', 'receive_address_exists', `"receive here" is already on for ${address}`, 'address');
    throw error;
  }
  return toAddress(row);
}

export async function disableReceiveHere(store: Store, accountId: string, rawAddress: string): Promise<void> {
  const result = await store.db.deleteFrom('receive_addresses')
    .where('address', '=', normalizeEmail(rawAddress)).where('account_id', '=', accountId).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw new UserError('not-found', 'unknown_receive_address', `"receive here" is not on for ${rawAddress}`, 'address');
}

export async function listReceiveAddresses(store: Store, accountId: string): Promise<ReceiveAddress[]> {
  const rows = await store.db.selectFrom('receive_addresses').select(['address', 'created_at']).where('account_id', '=', accountId).orderBy('address').execute();
  return rows.map(toAddress);
}

/**
 * The mx listener's question for a recipient that is not a bounce address: does an
 * account receive mail here? Only while its domain is still verified.
 */
export async function receivingAccount(store: Store, recipient: string): Promise<{ accountId: string; address: string } | null> {
  const address = normalizeEmail(recipient);
  const row = await store.db.selectFrom('receive_addresses')
    .innerJoin('domains', 'domains.id', 'receive_addresses.domain_id')
    .select(['receive_addresses.account_id as accountId', 'receive_addresses.address as address'])
    .where('receive_addresses.address', '=', address).where('domains.verified_at', 'is not', null)
    .executeTakeFirst();
  return row ?? null;
}
