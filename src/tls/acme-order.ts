/**
 * One ACME (RFC 8555) issuance for one host name over HTTP-01, written as the
 * steps the RFC names: account, order, authorizations, challenge, finalize,
 * download. The only file that knows the ACME client library.
 *
 * The library's own `auto()` first checks the challenge itself through the
 * system resolver and port 80, which cannot work behind a port forward or in
 * tests; the CA's own validation is the check that matters.
 */
import { generateKeyPairSync } from 'node:crypto';
import { Agent } from 'node:https';
import acme from 'acme-client';
import type { ChallengeStore } from './certificate-store.ts';
import { ecdsaCsr } from './ecdsa-csr.ts';

export interface AcmeOrderInput {
  directoryUrl: string;
  email: string;
  hostname: string;
  accountKeyPem: string;
  accountUrl: string | null;
  challenges: ChallengeStore;
  /** Roots to trust for the ACME server itself (a test CA such as pebble's); default: the process's roots. */
  caCerts?: string;
  /** Each step is logged, so a stuck issuance says where it stuck. */
  log?: (step: string) => void;
  /** The certificate's key: RSA 2048 (every client) or ECDSA P-256 (cheaper handshakes; served beside the RSA one). */
  keyType?: 'rsa' | 'ecdsa';
}

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
  accountUrl: string;
}

/** RSA 2048 for the certificate every client can use: some mail clients still in use cannot do ECDSA. */
function newRsaKey(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
}

/** A new key and its certificate request for `hostname`. */
async function keyAndCsr(keyType: 'rsa' | 'ecdsa', hostname: string): Promise<{ keyPem: string; csr: string | Buffer }> {
  if (keyType === 'ecdsa') {
    const { keyPem, csrPem } = ecdsaCsr(hostname);
    return { keyPem, csr: csrPem };
  }
  const keyPem = newRsaKey();
  // The library's node-forge CSR builder: its default one (@peculiar/x509) breaks when npm installs two
  // copies of @peculiar/asn1-schema, as mailauth's exact pin does here ("Cannot get schema for …").
  const [, csr] = await acme.forge.createCsr({ commonName: hostname, altNames: [hostname] }, keyPem);
  return { keyPem, csr };
}

export function newAccountKey(): Promise<string> {
  return acme.crypto.createPrivateEcdsaKey('P-256').then((key) => key.toString());
}

export async function orderCertificate(input: AcmeOrderInput): Promise<IssuedCertificate> {
  const log = input.log ?? (() => {});
  const release = input.caCerts ? trustForDirectory(input.directoryUrl, input.caCerts) : () => {};
  try {
    const client = new acme.Client({
      directoryUrl: input.directoryUrl, accountKey: input.accountKeyPem, accountUrl: input.accountUrl ?? undefined,
      // Polling for "valid": quick first look, then patient (a CA may take tens of seconds).
      backoffAttempts: 10, backoffMin: 500, backoffMax: 10_000,
    });

    log('account');
    await client.createAccount({ termsOfServiceAgreed: true, contact: [`mailto:${input.email}`] });

    log('order');
    const order = await client.createOrder({ identifiers: [{ type: 'dns', value: input.hostname }] });

    for (const authorization of await client.getAuthorizations(order)) {
      // A CA may reuse a recent valid authorization: nothing to prove then.
      if (authorization.status === 'valid') continue;
      await answerHttpChallenge(client, authorization, input.challenges, input.hostname, log);
    }

    log('finalize');
    const { keyPem, csr } = await keyAndCsr(input.keyType ?? 'rsa', input.hostname);
    const finalized = await client.finalizeOrder(order, csr);

    log('download');
    const certPem = await client.getCertificate(finalized);
    return { certPem, keyPem, accountUrl: client.getAccountUrl() };
  } finally {
    release();
  }
}

type Client = InstanceType<typeof acme.Client>;
type Authorization = Awaited<ReturnType<Client['getAuthorizations']>>[number];

async function answerHttpChallenge(client: Client, authorization: Authorization, challenges: ChallengeStore, hostname: string, log: (step: string) => void): Promise<void> {
  const challenge = authorization.challenges.find((candidate) => candidate.type === 'http-01');
  if (!challenge) throw new Error(`the ACME server offers no http-01 challenge for ${authorization.identifier.value}`);
  const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
  await challenges.put(challenge.token, hostname, keyAuthorization);
  try {
    log('challenge');
    await client.completeChallenge(challenge);
    await client.waitForValidStatus(authorization);
  } catch (error) {
    throw new Error(`HTTP-01 validation of ${hostname} failed (the CA must reach http://${hostname}/.well-known/acme-challenge/ on port 80, forwarded to MAILROOM_HTTP_PORT): ${(error as Error).message}`);
  } finally {
    await challenges.remove(challenge.token).catch(() => {});
  }
}

/**
 * The library sends every request through one shared HTTP instance; trusting
 * an extra root is scoped to the directory's origin, so another directory in
 * the same process keeps the normal roots.
 */
function trustForDirectory(directoryUrl: string, caCerts: string): () => void {
  const origin = new URL(directoryUrl).origin;
  const agent = new Agent({ ca: caCerts });
  const id = acme.axios.interceptors.request.use((config) => {
    if (config.url && new URL(config.url, directoryUrl).origin === origin) config.httpsAgent = agent;
    return config;
  });
  return () => {
    acme.axios.interceptors.request.eject(id);
    agent.destroy();
  };
}
