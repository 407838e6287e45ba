/**
 * A self-signed ECDSA P-256 certificate for one host name, built with
 * node:crypto alone: a key pair, the few DER structures of an X.509 v3
 * certificate (subject = issuer = CN, subjectAltName), signed with the key.
 *
 * Why not the `selfsigned` package, which makes the RSA one: its EC path
 * fails in this dependency tree (two copies of @peculiar/asn1-schema, so the
 * EC algorithm identifiers are registered in a schema store it does not
 * read). The structure below is small and fixed, and X509Certificate checks
 * the result.
 */
import { X509Certificate, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

const OID = {
  ecdsaWithSha256: [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02], // 1.2.840.10045.4.3.2
  commonName: [0x55, 0x04, 0x03], // 2.5.4.3
  subjectAltName: [0x55, 0x1d, 0x11], // 2.5.29.17
};

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const sequence = (...content: Buffer[]) => tlv(0x30, ...content);
const oid = (bytes: number[]) => tlv(0x06, Buffer.from(bytes));

/** UTCTime up to 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
function time(at: Date): Buffer {
  const iso = at.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  return at.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2), 'latin1')) : tlv(0x18, Buffer.from(iso, 'latin1'));
}

function name(hostname: string): Buffer {
  return sequence(tlv(0x31, sequence(oid(OID.commonName), tlv(0x0c, Buffer.from(hostname, 'utf8')))));
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export function ecdsaSelfSigned(hostname: string, notAfter: Date, notBefore = new Date(Date.now() - 60_000)): { key: string; cert: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const serial = randomBytes(16);
  serial[0] &= 0x7f; // a positive INTEGER
  serial[0] |= 0x01; // with no leading zero byte to strip
  const algorithm = sequence(oid(OID.ecdsaWithSha256));
  const subjectAltName = sequence(oid(OID.subjectAltName), tlv(0x04, sequence(tlv(0x82, Buffer.from(hostname, 'latin1')))));
  const tbs = sequence(
    tlv(0xa0, tlv(0x02, Buffer.from([0x02]))), // version 3
    tlv(0x02, serial),
    algorithm,
    name(hostname),
    sequence(time(notBefore), time(notAfter)),
    name(hostname),
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, sequence(subjectAltName)),
  );
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const cert = pem('CERTIFICATE', sequence(tbs, algorithm, tlv(0x03, Buffer.from([0x00]), signature)));
  const parsed = new X509Certificate(cert);
  if (!parsed.verify(publicKey) || !parsed.checkHost(hostname)) throw new Error(`the generated ECDSA certificate for ${hostname} does not verify`);
  return { key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, cert };
}
