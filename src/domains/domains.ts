/**
 * Sending domains: each belongs to one account, has its own DKIM key and
 * return-path (bounce) domain, and may send only once its DNS checks out.
 */
import type { Store } from '../store/database.ts';
import { newId } from '../store/ids.ts';
import { isUniqueViolation } from '../store/errors.ts';
import { UserError } from '../errors.ts';
import type { DnsResolver } from '../dns/resolver.ts';
import { generateDkimKey, recordsToPublish, type DnsRecordToPublish } from './records.ts';
import { checkDomainRecords, failedOnlyForLackOfAnswer, isVerified, type RecordCheck } from './verify.ts';
import { checkServerHost } from './server-host.ts';
import type { DomainsTable } from '../store/schema.ts';
import { healthAlertOf, type HealthAlert } from './health.ts';
import { completeDkimRotation } from './dkim-rotation.ts';

export interface SendingDomain {
  id: string;
  accountId: string;
  name: string;
  verified: boolean;
  verifiedAt: number | null;
  verifiedBy: string | null;
  dkimSelector: string;
  returnPathDomain: string;
  lastCheck: RecordCheck[] | null;
  lastCheckedAt: number | null;
  createdAt: number;
  /** What the scheduled re-check found wrong with a verified domain (mail still goes; fix it before it fails); null when all is well. */
  healthAlert: HealthAlert | null;
}


export interface DomainVerification {
  domain: SendingDomain;
  verified: boolean;
  records: RecordCheck[];
}

const DOMAIN_NAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export function normalizeDomainName(raw: string): string {
  const name = raw.trim().toLowerCase().replace(/\.$/, '');
  if (!DOMAIN_NAME.test(name)) throw new UserError('invalid', 'invalid_domain', `"${raw}" is not a domain name such as example.com`, 'domain');
  return name;
}

export async function addDomain(store: Store, accountId: string, rawName: string, serverHostname: string): Promise<{ domain: SendingDomain; records: DnsRecordToPublish[] }> {
  const name = normalizeDomainName(rawName);
  const key = await generateDkimKey();
  const row: DomainsTable = {
    id: newId(), account_id: accountId, name, dkim_selector: key.selector, dkim_private_key: key.privateKeyPem,
    dkim_public_key: key.publicKeyPem, return_path_domain: `bounces.${name}`, verified_at: null, verified_by: null,
    last_check: null, last_checked_at: null, created_at: Date.now(), health_alert: null,
  };
  try {
    await store.db.insertInto('domains').values(row).execute();
  } catch (error) {
    if (isUniqueViolation(error)) throw new UserError('conflict', 'domain_exists', `the domain ${name} has already been added`, 'domain');
    throw error;
  }
  return { domain: toDomain(row), records: domainRecords(row, serverHostname) };
}

export function domainRecords(row: Pick<DomainsTable, 'name' | 'dkim_selector' | 'dkim_public_key' | 'return_path_domain'>, serverHostname: string): DnsRecordToPublish[] {
  return recordsToPublish({ name: row.name, dkimSelector: row.dkim_selector, dkimPublicKeyPem: row.dkim_public_key, returnPathDomain: row.return_path_domain }, serverHostname);
}

export async function findDomainRow(store: Store, rawName: string): Promise<DomainsTable | null> {
  const name = normalizeDomainName(rawName);
  return (await store.db.selectFrom('domains').selectAll().where('name', '=', name).executeTakeFirst()) ?? null;
}

/** The domain, limited to one account's domains when `accountId` is given. */
export async function getDomainRow(store: Store, rawName: string, accountId: string | null): Promise<DomainsTable> {
  const row = await findDomainRow(store, rawName);
  if (!row || (accountId !== null && row.account_id !== accountId)) {
    throw new UserError('not-found', 'unknown_domain', `the domain ${rawName} has not been added`, 'domain');
  }
  return row;
}

export async function listDomains(store: Store, accountId: string | null): Promise<SendingDomain[]> {
  let query = store.db.selectFrom('domains').selectAll().orderBy('name');
  if (accountId) query = query.where('account_id', '=', accountId);
  return (await query.execute()).map(toDomain);
}

/** Looks every record up and stores the result; the domain becomes verified when DKIM, SPF and the return path check out. */
export async function verifyDomain(store: Store, row: DomainsTable, resolver: DnsResolver, serverHostname: string): Promise<DomainVerification> {
  const [recordChecks, hostCheck] = await Promise.all([checkDomainRecords(domainRecords(row, serverHostname), resolver), checkServerHost(serverHostname, resolver)]);
  // The server-host check is advisory (not in verify.ts's REQUIRED): it describes this server, not the user's records.
  const checks: RecordCheck[] = [...recordChecks, hostCheck];
  const verified = isVerified(checks);
  const now = Date.now();
  // A forced domain stays forced; a verified one stays verified while DNS merely fails to answer.
  const keepsState = !verified && (row.verified_by === 'force' || (row.verified_at !== null && failedOnlyForLackOfAnswer(checks)));
  const verifiedAt = verified ? (row.verified_at ?? now) : keepsState ? row.verified_at : null;
  const verifiedBy = verified ? 'dns' : keepsState ? row.verified_by : null;
  // A verify by hand settles the health alert the scheduled re-check raised (domains/recheck.ts), one way or the other.
  const alert = verifiedAt !== null && verifiedBy === 'dns'
    ? healthAlertOf(row.health_alert ? (JSON.parse(row.health_alert) as HealthAlert) : null, row.last_check ? (JSON.parse(row.last_check) as RecordCheck[]) : null, checks, now)
    : null;
  const healthAlert = alert ? JSON.stringify(alert) : null;
  await store.db.updateTable('domains')
    .set({ verified_at: verifiedAt, verified_by: verifiedBy, last_check: JSON.stringify(checks), last_checked_at: now, health_alert: healthAlert })
    .where('id', '=', row.id).execute();
  const updated = { ...row, verified_at: verifiedAt, verified_by: verifiedBy, last_check: JSON.stringify(checks), last_checked_at: now, health_alert: healthAlert };
  // A new DKIM key waiting for its record starts signing once the record is there; the answer
  // then shows the records of the key now signing.
  if (verifiedBy === 'dns' && (await completeDkimRotation(store, updated, resolver, now))) {
    const switched = await store.db.selectFrom('domains').selectAll().where('id', '=', row.id).executeTakeFirst();
    if (switched) return verifyDomain(store, switched, resolver, serverHostname);
  }
  return { domain: toDomain(updated), verified: verifiedAt !== null, records: checks };
}

/** An operator's override for private networks whose DNS we cannot see. */
export async function forceVerifyDomain(store: Store, row: DomainsTable): Promise<SendingDomain> {
  const now = Date.now();
  await store.db.updateTable('domains').set({ verified_at: now, verified_by: 'force' }).where('id', '=', row.id).execute();
  return toDomain({ ...row, verified_at: now, verified_by: 'force' });
}

export async function deleteDomain(store: Store, row: DomainsTable): Promise<void> {
  await store.db.deleteFrom('dkim_keys').where('domain_id', '=', row.id).execute();
  await store.db.deleteFrom('domains').where('id', '=', row.id).execute();
}

export function toDomain(row: DomainsTable): SendingDomain {
  return {
    id: row.id, accountId: row.account_id, name: row.name, verified: row.verified_at !== null, verifiedAt: row.verified_at,
    verifiedBy: row.verified_by, dkimSelector: row.dkim_selector, returnPathDomain: row.return_path_domain,
    lastCheck: row.last_check ? (JSON.parse(row.last_check) as RecordCheck[]) : null, lastCheckedAt: row.last_checked_at,
    createdAt: row.created_at, healthAlert: row.health_alert ? (JSON.parse(row.health_alert) as HealthAlert) : null,
  };
}

/** The facts sender policy needs: the account's domains and whether each is verified. */
/** accountDomainFacts for several accounts in one query (store/read-batch.ts), by account id. */
export async function accountDomainFactsOf(store: Store, accountIds: readonly string[]): Promise<Map<string, Array<{ name: string; verified: boolean }>>> {
  const facts = new Map<string, Array<{ name: string; verified: boolean }>>(accountIds.map((id) => [id, []]));
  if (accountIds.length === 0) return facts;
  const rows = await store.db.selectFrom('domains').select(['account_id', 'name', 'verified_at']).where('account_id', 'in', [...accountIds]).execute();
  for (const row of rows) facts.get(row.account_id)?.push({ name: row.name, verified: row.verified_at !== null });
  return facts;
}

export async function accountDomainFacts(store: Store, accountId: string): Promise<Array<{ name: string; verified: boolean }>> {
  const rows = await store.db.selectFrom('domains').select(['name', 'verified_at']).where('account_id', '=', accountId).execute();
  return rows.map((row) => ({ name: row.name, verified: row.verified_at !== null }));
}
