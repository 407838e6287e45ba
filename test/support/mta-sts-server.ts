/**
 * A loopback MTA-STS policy host for tests: HTTPS on 127.0.0.1 port 0 with a certificate from
 * the test CA, answering https://mta-sts.<domain>/.well-known/mta-sts.txt from the policies set
 * here (by the Host header, as one server for many policy hosts). It counts the fetches, so a
 * test can tell a cached policy from a fetched one.
 */
import https from 'node:https';
import type net from 'node:net';
import type { TestDnsServer } from './dns-server.ts';

export interface TestPolicy {
  mode: 'enforce' | 'testing' | 'none';
  mx: string[];
  maxAge?: number;
}

export interface PolicyServer {
  readonly port: number;
  /** Fetches per policy host name. */
  readonly fetches: Map<string, number>;
  /** Serves `policy` for `domain` and publishes `_mta-sts.<domain>` with `id` and `mta-sts.<domain>` → 127.0.0.1. */
  publish(dns: TestDnsServer, domain: string, id: string, policy: TestPolicy): void;
  close(): Promise<void>;
}

export async function startPolicyServer(tls: { key: string; cert: string }): Promise<PolicyServer> {
  const policies = new Map<string, string>();
  const fetches = new Map<string, number>();
  const server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const host = (req.headers.host ?? '').split(':')[0].toLowerCase();
    fetches.set(host, (fetches.get(host) ?? 0) + 1);
    const body = policies.get(host);
    if (req.url !== '/.well-known/mta-sts.txt' || body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    fetches,
    publish(dns, domain, id, policy) {
      const lines = ['version: STSv1', `mode: ${policy.mode}`, ...policy.mx.map((mx) => `mx: ${mx}`), `max_age: ${policy.maxAge ?? 86400}`];
      policies.set(`mta-sts.${domain}`, `${lines.join('\r\n')}\r\n`);
      dns.set(`_mta-sts.${domain}`, 'TXT', `v=STSv1; id=${id}`);
      dns.set(`mta-sts.${domain}`, 'A', '127.0.0.1');
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
