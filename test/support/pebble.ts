/**
 * Let's Encrypt's test CA, pebble (Debian package `pebble`), on loopback for
 * ACME tests. It validates HTTP-01 by asking `dnsServer` for the host's
 * address and fetching port `httpPort` there — our test DNS server answers
 * 127.0.0.1, and the port is Mailroom's HTTP listener.
 *
 * Pebble wants fixed ports in its configuration, so free ones are found by
 * binding port 0 first; a lost race is retried. Its HTTPS certificate is
 * generated per run (`caCerts` trusts it); the root that signs issued
 * certificates is regenerated at every start and read from its management API.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import selfsigned from 'selfsigned';

const PEBBLE = '/usr/bin/pebble';

export interface Pebble {
  directoryUrl: string;
  /** Trust for pebble's own HTTPS API (pass as the ACME client's CA). */
  apiCa: string;
  /** The root that signs issued certificates: what a client must trust to verify them. */
  issuanceRoot(): Promise<string>;
  /** Everything pebble printed, for assertion messages. */
  output(): string;
  close(): Promise<void>;
}

export interface PebbleOptions {
  httpPort: number;
  /** "127.0.0.1:PORT" of the test DNS server. */
  dnsServer: string;
  /** Lifetime of issued certificates; default 90 days, like Let's Encrypt. */
  validitySeconds?: number;
}

/** A reason to skip, or false when pebble can run here (CI installs it: .ci/run). */
export function pebbleMissing(): string | false {
  if (process.env.CI === 'true') return false;
  return spawnSync(PEBBLE, ['-h']).error ? `${PEBBLE} is not installed (apt-get install pebble)` : false;
}

export async function startPebble(options: PebbleOptions): Promise<Pebble> {
  const dir = mkdtempSync(join(tmpdir(), 'pebble-'));
  const https = await selfsigned.generate([{ name: 'commonName', value: 'pebble' }], {
    keyType: 'rsa', keySize: 2048, algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
  });
  writeFileSync(join(dir, 'cert.pem'), https.cert);
  writeFileSync(join(dir, 'key.pem'), https.private);
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(dir, https.cert, options);
    } catch (error) {
      if (attempt >= 3) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
}

async function launch(dir: string, apiCa: string, options: PebbleOptions): Promise<Pebble> {
  const [acmePort, managementPort] = [await freePort(), await freePort()];
  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${acmePort}`, managementListenAddress: `127.0.0.1:${managementPort}`,
      certificate: join(dir, 'cert.pem'), privateKey: join(dir, 'key.pem'),
      httpPort: options.httpPort, tlsPort: 5001, ocspResponderURL: '', externalAccountBindingRequired: false,
      certificateValidityPeriod: options.validitySeconds ?? 90 * 24 * 3600,
    },
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  const child = spawn(PEBBLE, ['-config', join(dir, 'config.json'), '-dnsserver', options.dnsServer], {
    // No artificial validation delays; no deliberately rejected nonces; a fresh authorization every order.
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => { output += chunk; });
  child.stderr!.on('data', (chunk) => { output += chunk; });
  await ready(child, () => output);
  const directoryUrl = `https://127.0.0.1:${acmePort}/dir`;
  return {
    directoryUrl, apiCa,
    issuanceRoot: () => fetchText(`https://127.0.0.1:${managementPort}/roots/0`, apiCa),
    output: () => output,
    async close() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function ready(child: ChildProcess, output: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`pebble did not start within 10 s:\n${output()}`)), 10_000);
    const check = () => {
      if (output().includes('ACME directory available at')) done();
    };
    const done = () => {
      clearTimeout(timer);
      child.stdout!.off('data', check);
      child.stderr!.off('data', check);
      child.off('exit', exited);
      resolve();
    };
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    const exited = () => fail(new Error(`pebble exited:\n${output()}`));
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', exited);
  });
}

/** A port nothing listens on right now (for configurations that need a number before the listener starts). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function fetchText(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => { body += chunk; });
      response.on('end', () => (response.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: ${response.statusCode} ${body}`))));
    }).on('error', reject);
  });
}
