/**
 * The outside world of a multi-node test: one fresh PostgreSQL schema every
 * node shares, a loopback DNS server the nodes resolve through, an MX peer
 * that receives what they deliver, and a sending account with a verified
 * domain, created through the store as an operator would.
 */
import { createAccount } from '../../src/accounts/accounts.ts';
import { addDomain, forceVerifyDomain, getDomainRow } from '../../src/domains/domains.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.ts';
import { startMxPeer, type MxPeer, type ReceivedMessage } from '../support/mx-peer.ts';
import { routeDomainToPeer } from '../support/delivery-world.ts';
import { createTestDatabase, type TestDatabase } from '../support/stores.ts';

export interface Sender {
  email: string;
  secret: string;
  accountId: string;
}

export interface MultiNodeWorld {
  database: TestDatabase;
  /** The test's own connection to the shared store, for set-up and checks. */
  store: Store;
  dns: TestDnsServer;
  mx: MxPeer;
  /** What every delivery node needs to reach the loopback DNS and MX. */
  deliveryEnv: Record<string, string>;
  createSender(domain: string, dailyLimit: number): Promise<Sender>;
  /** Makes `domain`'s MX the loopback peer. */
  route(domain: string): void;
  close(): Promise<void>;
}

export async function startMultiNodeWorld(): Promise<MultiNodeWorld> {
  const database = await createTestDatabase('postgres');
  const store = await openStore(database.url);
  const dns = await startDnsServer();
  const mx = await startMxPeer({ behaviour: 'accept' });
  return {
    database, store, dns, mx,
    deliveryEnv: { MAILROOM_DNS_SERVERS: dns.address, MAILROOM_DELIVERY_PORT: String(mx.port), MAILROOM_RETRY_SCHEDULE: '1s' },
    async createSender(domain, dailyLimit) {
      const created = await createAccount(store, { email: `owner@${domain}`, dailyLimit });
      await addDomain(store, created.account.id, domain, 'mailroom.test');
      await forceVerifyDomain(store, await getDomainRow(store, domain, null));
      return { email: created.account.email, secret: created.key.secret, accountId: created.account.id };
    },
    route: (domain) => routeDomainToPeer(dns, domain),
    async close() {
      await mx.close();
      await dns.close();
      await store.close();
      await database.drop();
    },
  };
}

/** What arrived at the MX, counted: mail by "tag recipient", DSNs by the tag of the message they return. */
export interface Ledger {
  mail: Map<string, number>;
  dsns: Map<string, number>;
}

export function ledger(received: readonly ReceivedMessage[]): Ledger {
  const mail = new Map<string, number>();
  const dsns = new Map<string, number>();
  const add = (counts: Map<string, number>, key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
  for (const message of received) {
    // A DSN (null sender) carries the returned message, X-Test-Tag included.
    const tag = /^X-Test-Tag: (\S+)/m.exec(message.raw.toString('latin1'))?.[1] ?? '?';
    if (message.mailFrom === '') add(dsns, tag);
    else for (const rcpt of message.rcptTo) add(mail, `${tag} ${rcpt.toLowerCase()}`);
  }
  return { mail, dsns };
}

export function duplicatesIn(counts: ReadonlyMap<string, number>): string[] {
  return [...counts].filter(([, n]) => n > 1).flatMap(([key, n]) => Array<string>(n - 1).fill(key));
}

