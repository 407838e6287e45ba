/**
 * A PKCS#10 certificate request (RFC 2986) for one host name with a new
 * ECDSA P-256 key, for the ACME order of the ECDSA certificate served beside
 * the RSA one. Built with node:crypto for the reason ecdsa-self-signed.ts
 * gives: acme-client's own CSR builder fails in this dependency tree, and
 * its node-forge one knows RSA only.
 */
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { OID, name, oid, pem, sequence, subjectAltNameExtension, tlv } from './der.ts';

export function ecdsaCsr(hostname: string): { keyPem: string; csrPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // The extensionRequest attribute carries the subjectAltName: CAs take the names from there.
  const extensionRequest = sequence(oid(OID.extensionRequest), tlv(0x31, sequence(subjectAltNameExtension(hostname))));
  const info = sequence(
    tlv(0x02, Buffer.from([0x00])), // version 1
    name(hostname),
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa0, extensionRequest),
  );
  const signature = sign('sha256', info, { key: privateKey, dsaEncoding: 'der' });
  if (!verify('sha256', info, { key: createPublicKey(privateKey), dsaEncoding: 'der' }, signature)) throw new Error(`the ECDSA certificate request for ${hostname} does not verify`);
  const csr = sequence(info, sequence(oid(OID.ecdsaWithSha256)), tlv(0x03, Buffer.from([0x00]), signature));
  return { keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, csrPem: pem('CERTIFICATE REQUEST', csr) };
}
