/**
 * The certificate every TLS listener presents: the operator's PEM files, or a
 * self-signed one generated once for MAILROOM_HOSTNAME and kept in the data
 * directory so it does not change at every restart.
 *
 * The generated one comes as a pair, RSA 2048 and ECDSA P-256 for the same
 * name: Node serves both and each client gets the one it asks for (nearly all
 * prefer ECDSA). Signing the handshake with P-256 costs the server a small
 * fraction of an RSA signature, and with a session per message (Gmail's "Send
 * mail as") every message costs a handshake. RSA stays for clients that
 * cannot use ECDSA.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import selfsigned from 'selfsigned';
import { ConfigError } from '../config/load.ts';
import { ecdsaSelfSigned } from './ecdsa-self-signed.ts';

export interface CertificateAndKey {
  key: string;
  cert: string;
}

export interface TlsCredentials extends CertificateAndKey {
  selfSigned: boolean;
  /** More certificates for the same name with other key types (ECDSA beside RSA); clients pick. */
  alternatives?: readonly CertificateAndKey[];
}

/** Every certificate and key to serve, in the form node:tls takes them (arrays: clients pick). */
export function secureContextOptions(tls: TlsCredentials): { key: string[]; cert: string[] } {
  const all = [tls, ...(tls.alternatives ?? [])];
  return { key: all.map((c) => c.key), cert: all.map((c) => c.cert) };
}

const VALIDITY_MS = 825 * 24 * 60 * 60 * 1000;

export async function loadTlsCredentials(options: { certFile: string | null; keyFile: string | null; dataDir: string; hostname: string }): Promise<TlsCredentials> {
  if (options.certFile && options.keyFile) return operatorCredentials(options.certFile, options.keyFile);
  const dir = join(options.dataDir, 'tls');
  const rsa = await selfSignedPair(dir, 'self-signed', options.hostname, async (notAfter) => {
    const pems = await selfsigned.generate([{ name: 'commonName', value: options.hostname }], {
      keySize: 2048,
      algorithm: 'sha256',
      notAfterDate: notAfter,
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: options.hostname }] }],
    });
    return { key: pems.private, cert: pems.cert };
  });
  const ecdsa = await selfSignedPair(dir, 'self-signed-ecdsa', options.hostname, async (notAfter) => ecdsaSelfSigned(options.hostname, notAfter));
  return { ...rsa, selfSigned: true, alternatives: [ecdsa] };
}

/** The pair kept under `dir` as NAME.crt / NAME.key if it is still valid for the hostname; else a new one. */
async function selfSignedPair(dir: string, name: string, hostname: string, generate: (notAfter: Date) => Promise<CertificateAndKey>): Promise<CertificateAndKey> {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  if (existsSync(certPath) && existsSync(keyPath)) {
    const cert = readFileSync(certPath, 'utf8');
    const parsed = new X509Certificate(cert);
    if (parsed.checkHost(hostname) && new Date(parsed.validTo) > new Date()) return { key: readFileSync(keyPath, 'utf8'), cert };
  }
  const pair = await generate(new Date(Date.now() + VALIDITY_MS));
  mkdirSync(dir, { recursive: true });
  writeFileSync(keyPath, pair.key, { mode: 0o600 });
  writeFileSync(certPath, pair.cert);
  return pair;
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
