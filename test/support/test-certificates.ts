/**
 * Certificates for tests: a private CA (standing in for a public authority,
 * trusted by passing its root as `caCerts`) and leaves it signs, plus
 * self-signed, wrongly named and expired ones — each thing Gmail refuses.
 * RSA keys: selfsigned's EC path fails with the @peculiar/asn1-schema copies installed here.
 */
import selfsigned from 'selfsigned';
import type { Store } from '../../src/store/database.ts';
import { saveIssuedCertificate } from '../../src/tls/certificate-store.ts';

export interface Pem {
  cert: string;
  key: string;
}

const DAY = 24 * 60 * 60 * 1000;

export async function createTestCa(name = 'Mailroom Test Root'): Promise<Pem> {
  const pems = await selfsigned.generate([{ name: 'commonName', value: name }, { name: 'organizationName', value: 'Mailroom Tests' }], {
    keyType: 'rsa', keySize: 2048, algorithm: 'sha256', notAfterDate: new Date(Date.now() + 3650 * DAY),
    extensions: [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true }],
  });
  return { cert: pems.cert, key: pems.private };
}

export interface LeafOptions {
  names: string[];
  /** Signed by this CA; self-signed without one. */
  ca?: Pem;
  notBefore?: Date;
  notAfter?: Date;
}

export async function createLeaf(options: LeafOptions): Promise<Pem> {
  const pems = await selfsigned.generate([{ name: 'commonName', value: options.names[0] }], {
    keyType: 'rsa', keySize: 2048, algorithm: 'sha256',
    notBeforeDate: options.notBefore ?? new Date(Date.now() - DAY),
    notAfterDate: options.notAfter ?? new Date(Date.now() + 90 * DAY),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: options.names.map((value) => ({ type: 2 as const, value })) },
    ],
    ...(options.ca ? { ca: { cert: options.ca.cert, key: options.ca.key } } : {}),
  });
  return { cert: pems.cert, key: pems.private };
}

/** Puts a certificate in the store as ACME would; running nodes present it after their next check. */
export async function storeCertificate(store: Store, hostname: string, pem: Pem): Promise<void> {
  const now = Date.now();
  await store.db.insertInto('certificates').values({ hostname, failures: 0, updated_at: now })
    .onConflict((oc) => oc.column('hostname').doNothing()).execute();
  await saveIssuedCertificate(store, hostname, { certPem: pem.cert, keyPem: pem.key }, null, now);
}
