/**
 * The certificate every TLS listener presents: the operator's PEM files, or a
 * self-signed one generated once for MAILROOM_HOSTNAME and kept in the data
 * directory so it does not change at every restart.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import selfsigned from 'selfsigned';
import { ConfigError } from '../config/load.ts';

export interface TlsCredentials {
  key: string;
  cert: string;
  selfSigned: boolean;
}

export async function loadTlsCredentials(options: { certFile: string | null; keyFile: string | null; dataDir: string; hostname: string }): Promise<TlsCredentials> {
  if (options.certFile && options.keyFile) return operatorCredentials(options.certFile, options.keyFile);
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

/**
 * The operator's PEM files, checked now so that a wrong path or a key of
 * another certificate stops start-up naming the variable, instead of failing
 * later inside the TLS library with words about ASN.1.
 */
function operatorCredentials(certFile: string, keyFile: string): TlsCredentials {
  const cert = readPem('MAILROOM_TLS_CERT', certFile);
  const key = readPem('MAILROOM_TLS_KEY', keyFile);
  let parsed: X509Certificate;
  let privateKey: KeyObject;
  try {
    parsed = new X509Certificate(cert);
  } catch {
    throw new ConfigError(`MAILROOM_TLS_CERT=${JSON.stringify(certFile)} is not a PEM certificate`);
  }
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new ConfigError(`MAILROOM_TLS_KEY=${JSON.stringify(keyFile)} is not a PEM private key`);
  }
  if (!parsed.checkPrivateKey(privateKey)) {
    throw new ConfigError(`MAILROOM_TLS_KEY=${JSON.stringify(keyFile)} does not match the certificate in MAILROOM_TLS_CERT=${JSON.stringify(certFile)}`);
  }
  return { key, cert, selfSigned: parsed.issuer === parsed.subject };
}

function readPem(variable: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new ConfigError(`${variable}=${JSON.stringify(file)} cannot be read: ${reason}`);
  }
}
