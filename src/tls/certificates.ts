/**
 * The certificate this node's TLS listeners present, kept current without a
 * restart. The store holds the installation's certificate for
 * MAILROOM_HOSTNAME; every node reads it on a timer and hands a newer one to
 * its listeners (new handshakes get it, established sessions keep theirs).
 * With MAILROOM_ACME_EMAIL, nodes also take turns — through a lease on the
 * row — to obtain it and renew it before it expires, backing off on failure.
 *
 * Operator-supplied files (MAILROOM_TLS_CERT) win over the store unless ACME
 * is on; the generated self-signed certificate always gives way.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { Config } from '../config/options.ts';
import type { Store } from '../store/database.ts';
import type { TlsCredentials } from './credentials.ts';
import { certificateStatus, isSelfSigned, type CertificateStatus } from './certificate-status.ts';
import { splitPemChain } from './pem.ts';
import {
  acmeAccount, readStoredCertificate, saveAcmeAccountUrl, saveFailedAttempt, saveIssuedCertificate, storedChallenges, takeOrderLease,
  type StoredCertificate,
} from './certificate-store.ts';
import { newAccountKey, orderCertificate } from './acme-order.ts';
import { backoffAfter, decideRenewal, renewalDueAt } from './renewal-schedule.ts';

export interface CertificateOptions {
  /** How often the store is read and renewal considered; default one minute. */
  checkMs?: number;
  /** Roots to trust for the ACME server (pebble's in tests); default: the process's roots, NODE_EXTRA_CA_CERTS included. */
  acmeCaCerts?: string;
  /** The clock renewal decisions read; tests move it forward to make a renewal due. */
  now?: () => number;
}

export interface CertificateDeps {
  config: Config;
  store: Store;
  logger: Logger;
  nodeId: string;
  /** What the node loaded at start: the operator's files or the generated self-signed certificate. */
  initial: TlsCredentials;
  /** Read at each change, so listeners added after start are included. */
  listeners: readonly CertificatePresenter[];
}

/** What presents the certificate: the node's TLS listeners (nodes/listener.ts). */
export interface CertificatePresenter {
  setCertificate?(tls: TlsCredentials): void | Promise<void>;
}

export interface Certificates {
  current(): TlsCredentials;
  /** Issuer, names, expiry and whether Gmail accepts it, for MAILROOM_HOSTNAME. */
  status(caCerts?: string | readonly string[]): CertificateStatus;
  /** Starts the timer; call once the HTTP listener is up, as the first ACME order may need it at once. */
  start(): void;
  /** One round now: pick up a newer stored certificate and, with ACME, order one if due. */
  check(): Promise<void>;
  stop(): Promise<void>;
}

// Long enough for a slow CA; a node that dies mid-order frees the row after this.
const ORDER_LEASE_MS = 10 * 60 * 1000;

export async function loadCertificates(deps: CertificateDeps, options: CertificateOptions = {}): Promise<Certificates> {
  const { config, store, logger, nodeId } = deps;
  const hostname = config.hostname;
  const now = options.now ?? Date.now;
  const acmeEmail = config.acmeEmail;
  const followStore = acmeEmail !== null || config.tlsCert === null;
  let served = deps.initial;
  let timer: NodeJS.Timeout | null = null;
  let round: Promise<void> | null = null;
  let stopped = false;

  /** Resolves once every listener presents it (listeners on other threads confirm). */
  async function serve(row: StoredCertificate | null): Promise<void> {
    if (!followStore || !row?.cert_pem || !row.key_pem || row.not_after === null || row.not_after <= now()) return;
    const ecdsa = row.ecdsa_cert_pem && row.ecdsa_key_pem ? { cert: row.ecdsa_cert_pem, key: row.ecdsa_key_pem } : null;
    if (fingerprint(row.cert_pem, ecdsa?.cert) === fingerprint(served.cert, served.alternatives?.[0]?.cert)) return;
    try {
      createSecureContext({ key: row.key_pem, cert: row.cert_pem });
    } catch (error) {
      logger.error({ err: error, event: 'tls.stored_unusable', hostname }, `the stored certificate for ${hostname} cannot be used (${(error as Error).message}); keeping the current one`);
      return;
    }
    let alternatives = ecdsa ? [ecdsa] : [];
    try {
      if (ecdsa) createSecureContext({ key: [row.key_pem, ecdsa.key], cert: [row.cert_pem, ecdsa.cert] });
    } catch (error) {
      logger.warn({ err: error, event: 'tls.stored_ecdsa_unusable', hostname }, `the stored ECDSA certificate for ${hostname} cannot be used (${(error as Error).message}); serving the RSA one alone`);
      alternatives = [];
    }
    const leaf = new X509Certificate(splitPemChain(row.cert_pem)[0]);
    served = { cert: row.cert_pem, key: row.key_pem, selfSigned: isSelfSigned(leaf), alternatives };
    const current = served;
    await Promise.all(deps.listeners.map((listener) => listener.setCertificate?.(current)));
    logger.info({ event: 'tls.certificate_loaded', hostname, issuer: row.issuer, validTo: new Date(row.not_after).toISOString(), ecdsa: alternatives.length > 0 },
      `TLS listeners now present the certificate for ${hostname} issued by ${row.issuer}${alternatives.length > 0 ? ' (RSA and ECDSA)' : ''}, valid until ${new Date(row.not_after).toISOString()}`);
  }

  async function check(): Promise<void> {
    const row = await readStoredCertificate(store, hostname);
    await serve(row);
    if (acmeEmail === null || stopped) return;
    const decision = decideRenewal(row, now());
    if (!decision.order) return;
    if (!(await takeOrderLease(store, hostname, nodeId, now(), now() + ORDER_LEASE_MS))) return;
    await obtain(acmeEmail, decision.why, row?.failures ?? 0);
  }

  async function obtain(email: string, why: 'none-yet' | 'renewal-due' | 'expired', failuresSoFar: number): Promise<void> {
    const directoryUrl = config.acmeDirectory;
    const reason = { 'none-yet': 'none obtained yet', 'renewal-due': 'renewal due', expired: 'the stored one expired' }[why];
    logger.info({ event: 'acme.order', hostname, directory: directoryUrl, why }, `ACME: requesting a certificate for ${hostname} from ${directoryUrl} (${reason})`);
    try {
      const account = await acmeAccount(store, directoryUrl, email, newAccountKey, now());
      const order = (keyType: 'rsa' | 'ecdsa', accountUrl: string | null) => orderCertificate({
        directoryUrl, email, hostname, accountKeyPem: account.accountKeyPem, accountUrl, keyType,
        challenges: storedChallenges(store), caCerts: options.acmeCaCerts,
        log: (step) => logger.debug({ event: 'acme.step', hostname, step, keyType }, `ACME (${keyType}): ${step}`),
      });
      const issued = await order('rsa', account.accountUrl);
      if (account.accountUrl !== issued.accountUrl) await saveAcmeAccountUrl(store, directoryUrl, issued.accountUrl);
      // The ECDSA one is a second order for the same name (the CA mostly reuses the valid authorization).
      // Without it every client still gets the RSA one, so its failure is logged and does not fail the round.
      const ecdsa = await order('ecdsa', issued.accountUrl).catch((error: Error) => {
        logger.warn({ err: error, event: 'acme.ecdsa_failed', hostname }, `ACME: no ECDSA certificate for ${hostname} (${error.message}); serving the RSA one alone`);
        return null;
      });
      await saveIssuedCertificate(store, hostname, issued, ecdsa, now());
      const row = await readStoredCertificate(store, hostname);
      if (row?.not_before != null && row.not_after != null) {
        logger.info({ event: 'acme.issued', hostname, issuer: row.issuer, validTo: new Date(row.not_after).toISOString() },
          `ACME: certificate for ${hostname} issued by ${row.issuer}, valid until ${new Date(row.not_after).toISOString()}; renewal starts ${new Date(renewalDueAt(row.not_before, row.not_after)).toISOString()}`);
      }
      await serve(row);
    } catch (error) {
      const failures = failuresSoFar + 1;
      const nextAttemptAt = now() + backoffAfter(failures);
      const message = (error as Error).message ?? String(error);
      await saveFailedAttempt(store, hostname, { error: message, failures, nextAttemptAt }, now())
        .catch((saveError) => logger.error({ err: saveError, event: 'acme.save_failed' }, 'could not record the failed ACME attempt'));
      logger.error({ err: error, event: 'acme.failed', hostname, failures, nextAttemptAt: new Date(nextAttemptAt).toISOString() },
        `ACME: could not obtain a certificate for ${hostname} (attempt ${failures} in a row): ${message}; next attempt at ${new Date(nextAttemptAt).toISOString()}`);
    }
  }

  function runRound(): Promise<void> {
    round ??= check()
      .catch((error) => logger.error({ err: error, event: 'tls.check_failed', hostname }, `certificate check for ${hostname} failed: ${(error as Error).message}`))
      .finally(() => { round = null; });
    return round;
  }

  // A certificate already in the store is served from the first connection on.
  await serve(await readStoredCertificate(store, hostname));
  if (acmeEmail !== null && served.selfSigned) {
    logger.info({ event: 'acme.enabled', hostname }, `ACME is on: a certificate for ${hostname} will be requested from ${config.acmeDirectory}; until then the self-signed one is used`);
  }

  return {
    current: () => served,
    status: (caCerts) => certificateStatus({ cert: served.cert, host: hostname, now: now(), caCerts }),
    start() {
      if (timer || stopped) return;
      void runRound();
      timer = setInterval(() => void runRound(), options.checkMs ?? 60_000);
      timer.unref();
    },
    check: runRound,
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      // An ACME order in flight is not waited for: it holds no lock that outlives its lease.
      if (round) await Promise.race([round, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    },
  };
}

/** The certificates served, RSA and the ECDSA one beside it (if any): a change of either is a change. */
function fingerprint(pem: string, ecdsaPem?: string): string {
  const hash = createHash('sha256').update(splitPemChain(pem).join('\n'));
  if (ecdsaPem) hash.update('\n').update(splitPemChain(ecdsaPem).join('\n'));
  return hash.digest('hex');
}
