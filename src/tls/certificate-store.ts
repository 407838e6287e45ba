/**
 * The shared certificate in the store: one row per host name holding the
 * issued chain and key, the ACME attempt history (for the backoff) and a
 * lease, so that of several nodes exactly one talks to the ACME server at a
 * time. Also the ACME account key and the pending HTTP-01 challenges, which
 * any HTTP node answers.
 */
import { X509Certificate } from 'node:crypto';
import type { Store } from '../store/database.ts';
import type { CertificatesTable } from '../store/schema.ts';
import { splitPemChain } from './pem.ts';

export type StoredCertificate = CertificatesTable;

export async function readStoredCertificate(store: Store, hostname: string): Promise<StoredCertificate | null> {
  return (await store.db.selectFrom('certificates').selectAll().where('hostname', '=', hostname).executeTakeFirst()) ?? null;
}

/** Takes the right to order for `hostname` until `until`; false when another node holds it. */
export async function takeOrderLease(store: Store, hostname: string, owner: string, now: number, until: number): Promise<boolean> {
  await store.db.insertInto('certificates').values({ hostname, failures: 0, updated_at: now })
    .onConflict((oc) => oc.column('hostname').doNothing()).execute();
  const result = await store.db.updateTable('certificates').set({ lease_owner: owner, lease_expires_at: until })
    .where('hostname', '=', hostname)
    .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_expires_at', '<', now), eb('lease_owner', '=', owner)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The RSA certificate, and the ECDSA one ordered with it (null: none issued this time, so none is kept). */
export async function saveIssuedCertificate(store: Store, hostname: string, issued: { certPem: string; keyPem: string }, ecdsa: { certPem: string; keyPem: string } | null, now: number): Promise<void> {
  const leaf = new X509Certificate(splitPemChain(issued.certPem)[0]);
  await store.db.updateTable('certificates').set({
    cert_pem: issued.certPem, key_pem: issued.keyPem, ecdsa_cert_pem: ecdsa?.certPem ?? null, ecdsa_key_pem: ecdsa?.keyPem ?? null, issuer: leaf.issuer.replaceAll('\n', ', '),
    not_before: Date.parse(leaf.validFrom), not_after: Date.parse(leaf.validTo), obtained_at: now,
    failures: 0, last_attempt_at: now, last_error: null, next_attempt_at: null, lease_owner: null, lease_expires_at: null, updated_at: now,
  }).where('hostname', '=', hostname).execute();
}

export async function saveFailedAttempt(store: Store, hostname: string, failure: { error: string; failures: number; nextAttemptAt: number }, now: number): Promise<void> {
  await store.db.updateTable('certificates').set({
    failures: failure.failures, last_attempt_at: now, last_error: failure.error, next_attempt_at: failure.nextAttemptAt,
    lease_owner: null, lease_expires_at: null,
  }).where('hostname', '=', hostname).execute();
}

export interface AcmeAccount {
  accountKeyPem: string;
  accountUrl: string | null;
}

/** The account for this directory; concurrent first uses by several nodes agree on one key. */
export async function acmeAccount(store: Store, directoryUrl: string, email: string, newKey: () => Promise<string>, now: number): Promise<AcmeAccount> {
  const existing = await store.db.selectFrom('acme_accounts').selectAll().where('directory_url', '=', directoryUrl).executeTakeFirst();
  if (!existing) {
    await store.db.insertInto('acme_accounts').values({ directory_url: directoryUrl, email, account_key_pem: await newKey(), account_url: null, created_at: now })
      .onConflict((oc) => oc.column('directory_url').doNothing()).execute();
  }
  const row = await store.db.selectFrom('acme_accounts').selectAll().where('directory_url', '=', directoryUrl).executeTakeFirstOrThrow();
  return { accountKeyPem: row.account_key_pem, accountUrl: row.account_url };
}

export async function saveAcmeAccountUrl(store: Store, directoryUrl: string, accountUrl: string): Promise<void> {
  await store.db.updateTable('acme_accounts').set({ account_url: accountUrl }).where('directory_url', '=', directoryUrl).execute();
}

export interface ChallengeStore {
  put(token: string, hostname: string, keyAuthorization: string): Promise<void>;
  remove(token: string): Promise<void>;
}

/** HTTP-01 challenges live in the store: the node that orders is not always the one the CA's request reaches. */
export function storedChallenges(store: Store, ttlMs = 60 * 60 * 1000): ChallengeStore {
  return {
    async put(token, hostname, keyAuthorization) {
      const now = Date.now();
      await store.db.deleteFrom('acme_challenges').where('expires_at', '<', now).execute();
      await store.db.insertInto('acme_challenges').values({ token, hostname, key_authorization: keyAuthorization, expires_at: now + ttlMs })
        .onConflict((oc) => oc.column('token').doUpdateSet({ key_authorization: keyAuthorization, expires_at: now + ttlMs })).execute();
    },
    async remove(token) {
      await store.db.deleteFrom('acme_challenges').where('token', '=', token).execute();
    },
  };
}

export async function findChallengeAnswer(store: Store, token: string, now = Date.now()): Promise<string | null> {
  const row = await store.db.selectFrom('acme_challenges').select(['key_authorization', 'expires_at']).where('token', '=', token).executeTakeFirst();
  return row && Number(row.expires_at) > now ? row.key_authorization : null;
}
