/**
 * The certificate every TLS listener presents: the operator's PEM files, or a
 * self-signed one generated once for MAILROOM_HOSTNAME and kept in the data
 * directory so it does not change at every restart.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import selfsigned from 'selfsigned';

export interface TlsCredentials {
  key: string;
  cert: string;
  selfSigned: boolean;
}

export async function loadTlsCredentials(options: { certFile: string | null; keyFile: string | null; dataDir: string; hostname: string }): Promise<TlsCredentials> {
  if (options.certFile && options.keyFile) {
    const cert = readFileSync(options.certFile, 'utf8');
    const key = readFileSync(options.keyFile, 'utf8');
    const parsed = new X509Certificate(cert);
    return { key, cert, selfSigned: parsed.issuer === parsed.subject };
  }
  const dir = join(options.dataDir, 'tls');
  const certPath = join(dir, 'self-signed.crt');
  const keyPath = join(dir, 'self-signed.key');
  if (existsSync(certPath) && existsSync(keyPath)) {
    const cert = readFileSync(certPath, 'utf8');
    if (new X509Certificate(cert).checkHost(options.hostname) && new Date(new X509Certificate(cert).validTo) > new Date()) {
      return { key: readFileSync(keyPath, 'utf8'), cert, selfSigned: true };
    }
  }
  const notAfter = new Date(Date.now() + 825 * 24 * 60 * 60 * 1000);
  const pems = await selfsigned.generate([{ name: 'commonName', value: options.hostname }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: notAfter,
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: options.hostname }] }],
  });
  mkdirSync(dir, { recursive: true });
  writeFileSync(keyPath, pems.private, { mode: 0o600 });
  writeFileSync(certPath, pems.cert);
  return { key: pems.private, cert: pems.cert, selfSigned: true };
}
