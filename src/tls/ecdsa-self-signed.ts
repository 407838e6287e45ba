/**
 * A self-signed ECDSA P-256 certificate for one host name, built with
 * node:crypto alone: a key pair, the few DER structures of an X.509 v3
 * certificate (subject = issuer = CN, subjectAltName), signed with the key.
 *
 * Why not the `selfsigned` package, which makes the RSA one: its EC path
 * fails in this dependency tree (two copies of @peculiar/asn1-schema, so the
 * EC algorithm identifiers are registered in a schema store it does not
 * read). The structure below is small and fixed (DER pieces in der.ts), and
 * X509Certificate checks the result.
 */
import { X509Certificate, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { OID, name, oid, pem, sequence, subjectAltNameExtension, time, tlv } from './der.ts';

export function ecdsaSelfSigned(hostname: string, notAfter: Date, notBefore = new Date(Date.now() - 60_000)): { key: string; cert: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const serial = randomBytes(16);
  serial[0] &= 0x7f; // a positive INTEGER
  serial[0] |= 0x01; // with no leading zero byte to strip
  const algorithm = sequence(oid(OID.ecdsaWithSha256));
  const tbs = sequence(
    tlv(0xa0, tlv(0x02, Buffer.from([0x02]))), // version 3
    tlv(0x02, serial),
    algorithm,
    name(hostname),
    sequence(time(notBefore), time(notAfter)),
    name(hostname),
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, sequence(subjectAltNameExtension(hostname))),
  );
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const cert = pem('CERTIFICATE', sequence(tbs, algorithm, tlv(0x03, Buffer.from([0x00]), signature)));
  const parsed = new X509Certificate(cert);
  if (!parsed.verify(publicKey) || !parsed.checkHost(hostname)) throw new Error(`the generated ECDSA certificate for ${hostname} does not verify`);
  return { key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, cert };
}
