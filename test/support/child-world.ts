/**
 * A store, loopback DNS and an MX peer for suites that run Mailroom as child
 * processes they kill and restart (durability): one account whose domain is
 * verified and published, and `start()`, which launches `mailroom start` with
 * the smtp and delivery roles on all of it. Whatever it started, close() kills.
 */
import { startDnsServer, type TestDnsServer } from './dns-server.ts';
import { startMxPeer, type MxPeer } from './mx-peer.ts';
import { createTestDatabase, type EngineName, type TestDatabase } from './stores.ts';
import { cliEnv, startService, type RunningService, type StartOptions } from './cli.ts';
import { routeDomainTo } from './delivery.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { createAccount } from '../../src/accounts/accounts.ts';
import { addDomain, domainRecords, forceVerifyDomain, getDomainRow } from '../../src/domains/domains.ts';

export const HOSTNAME = 'mailroom.test';

export interface ChildWorld {
  dns: TestDnsServer;
  mx: MxPeer;
  database: TestDatabase;
  store: Store;
  sender: { email: string; secret: string };
  /** `mailroom start` on this world; `env` adds to (or overrides) the common settings. */
  start(env: Record<string, string>, options?: StartOptions): Promise<RunningService>;
  close(): Promise<void>;
}

export async function startChildWorld(engine: EngineName, senderDomain: string): Promise<ChildWorld> {
  const dns = await startDnsServer();
  const mx = await startMxPeer();
  const database = await createTestDatabase(engine);
  const store = await openStore(database.url);
  const created = await createAccount(store, { email: `owner@${senderDomain}`, dailyLimit: 100_000 });
  await addDomain(store, created.account.id, senderDomain, HOSTNAME);
  await forceVerifyDomain(store, await getDomainRow(store, senderDomain, null));
  dns.publish(domainRecords(await getDomainRow(store, senderDomain, null), HOSTNAME));
  routeDomainTo(dns, senderDomain, '127.0.0.1');
  const children: RunningService[] = [];
  return {
    dns, mx, database, store,
    sender: { email: created.account.email, secret: created.key.secret },
    async start(env, options) {
      const child = await startService(cliEnv(database, {
        MAILROOM_HOSTNAME: HOSTNAME, MAILROOM_ROLES: 'smtp,delivery', MAILROOM_SMTP_HOST: '127.0.0.1', MAILROOM_SMTP_PORT: '0',
        MAILROOM_SMTPS_PORT: 'off', MAILROOM_DNS_SERVERS: dns.address, MAILROOM_DELIVERY_PORT: String(mx.port),
        MAILROOM_RETRY_SCHEDULE: '1s', MAILROOM_LEASE_TIME: '3s', MAILROOM_LOG_LEVEL: 'warn', ...env,
      }), options);
      children.push(child);
      return child;
    },
    async close() {
      for (const child of children) await child.kill();
      await store.close();
      await database.drop();
      await mx.close();
      await dns.close();
    },
  };
}
