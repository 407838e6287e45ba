/**
 * The few DER (X.690) pieces the ECDSA certificate and certificate request
 * are made of (ecdsa-self-signed.ts, ecdsa-csr.ts): tag-length-value,
 * sequences, object identifiers, times and a one-name subject.
 */
export const OID = {
  ecdsaWithSha256: [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02], // 1.2.840.10045.4.3.2
  commonName: [0x55, 0x04, 0x03], // 2.5.4.3
  subjectAltName: [0x55, 0x1d, 0x11], // 2.5.29.17
  extensionRequest: [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e], // 1.2.840.113549.1.9.14
};

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

export const sequence = (...content: Buffer[]) => tlv(0x30, ...content);
export const oid = (bytes: number[]) => tlv(0x06, Buffer.from(bytes));

/** UTCTime up to 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
export function time(at: Date): Buffer {
  const iso = at.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  return at.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2), 'latin1')) : tlv(0x18, Buffer.from(iso, 'latin1'));
}

export function name(hostname: string): Buffer {
  return sequence(tlv(0x31, sequence(oid(OID.commonName), tlv(0x0c, Buffer.from(hostname, 'utf8')))));
}

export function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** The subjectAltName extension naming one DNS name (RFC 5280 4.2.1.6). */
export function subjectAltNameExtension(hostname: string): Buffer {
  return sequence(oid(OID.subjectAltName), tlv(0x04, sequence(tlv(0x82, Buffer.from(hostname, 'latin1')))));
}
