/**
 * Fetching a domain's MTA-STS policy file (RFC 8461 3.3):
 * https://mta-sts.<domain>/.well-known/mta-sts.txt, with the certificate checked for that name
 * against the system CAs plus NODE_EXTRA_CA_CERTS (and any extra roots a test passes).
 *
 * mailauth has a fetcher too, but it always dials port 443 and trusts only Node's default
 * store; ours resolves mta-sts.<domain> through our resolver (MAILROOM_DNS_SERVERS, like every
 * other lookup), connects to that address with the policy host as the TLS server name, and takes
 * the port and extra roots as parameters so tests can serve a policy from loopback with a test
 * CA. Parsing the file stays mailauth's (mta-sts.ts).
 */
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { DnsResolver } from '../dns/resolver.ts';

export interface PolicyFetchOptions {
  resolver: DnsResolver;
  /** 443 in production. */
  port: number;
  /** Trusted roots; undefined: Node's default store (system CAs and NODE_EXTRA_CA_CERTS). */
  ca?: string[];
  timeoutMs: number;
}

// RFC 8461 3.3: senders may limit the policy body to 64 KiB.
const MAX_POLICY_BYTES = 64 * 1024;

/** Why a fetch failed, in words for the attempt record. */
export class PolicyFetchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PolicyFetchError';
  }
}

export async function fetchPolicyText(domain: string, opts: PolicyFetchOptions): Promise<string> {
  const host = `mta-sts.${domain}`;
  const ip = await addressOf(host, opts.resolver);
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (error: Error | null, text?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        request.destroy();
        reject(error instanceof PolicyFetchError ? error : new PolicyFetchError(`fetching https://${host}/.well-known/mta-sts.txt: ${error.message}`, { cause: error }));
      } else resolve(text!);
    };
    const request = https.request({
      host: ip, port: opts.port, path: '/.well-known/mta-sts.txt', method: 'GET',
      servername: host, headers: { host }, ca: opts.ca, rejectUnauthorized: true,
      // A fresh connection: never one verified for another name.
      agent: false,
    }, (response: IncomingMessage) => {
      // RFC 8461 3.3: only a 200 is a policy; redirects are not followed.
      if (response.statusCode !== 200) return done(new PolicyFetchError(`https://${host}/.well-known/mta-sts.txt answered HTTP ${response.statusCode}`));
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_POLICY_BYTES) return done(new PolicyFetchError(`the policy at https://${host}/ is larger than ${MAX_POLICY_BYTES} bytes`));
        chunks.push(chunk);
      });
      response.on('end', () => done(null, Buffer.concat(chunks).toString('utf8')));
      response.on('error', (error) => done(error));
    });
    const timer = setTimeout(() => done(new PolicyFetchError(`https://${host}/.well-known/mta-sts.txt took longer than ${opts.timeoutMs} ms`)), opts.timeoutMs);
    request.on('error', (error) => done(error));
    request.end();
  });
}

async function addressOf(host: string, resolver: DnsResolver): Promise<string> {
  const a = await resolver.a(host);
  if (a.length > 0) return a[0];
  const aaaa = await resolver.aaaa(host);
  if (aaaa.length > 0) return aaaa[0];
  throw new PolicyFetchError(`the policy host ${host} has no address`);
}
