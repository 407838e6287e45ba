/**
 * Starts a real Mailroom in this process for a test: its own store (see
 * stores.ts), every listener on 127.0.0.1 port 0, silent logs. Helpers create
 * an account with a verified sending domain the way an operator would.
 */
import pino, { type Logger } from 'pino';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/options.ts';
import { startMailroom, type RunningMailroom, type StartOptions } from '../../src/main.ts';
import { createAccount } from '../../src/accounts/accounts.ts';
import { addDomain, forceVerifyDomain, getDomainRow } from '../../src/domains/domains.ts';
import { createTestDatabase, type EngineName, type TestDatabase } from './stores.ts';

export interface TestMailroom {
  running: RunningMailroom;
  config: Config;
  database: TestDatabase;
  port(name: 'submission' | 'submissions' | 'http' | 'mx'): number;
  /** An account with a domain marked verified; returns its email and secret key. */
  createSender(options?: { email?: string; domain?: string; dailyLimit?: number }): Promise<{ email: string; secret: string; accountId: string; domain: string }>;
  stop(): Promise<void>;
}

const LISTENER_PREFIX = { submission: 'submission (plain', submissions: 'submission (implicit', http: 'http', mx: 'mx' } as const;

export async function startTestMailroom(engine: EngineName, env: Record<string, string> = {}, options: StartOptions = { deliveryPollMs: 200, dnsCacheMs: 0 }, logger?: Logger): Promise<TestMailroom> {
  const database = await createTestDatabase(engine);
  const config = loadConfig({
    MAILROOM_DATABASE_URL: database.url,
    MAILROOM_DATA_DIR: database.dataDir,
    MAILROOM_HOSTNAME: 'mailroom.test',
    MAILROOM_SMTP_HOST: '127.0.0.1',
    MAILROOM_HTTP_HOST: '127.0.0.1',
    MAILROOM_SMTP_PORT: '0',
    MAILROOM_SMTPS_PORT: '0',
    MAILROOM_HTTP_PORT: '0',
    MAILROOM_SHUTDOWN_TIMEOUT: '2s',
    MAILROOM_LOG_LEVEL: 'silent',
    // Lets any suite run with SMTP sessions on threads: MAILROOM_SMTP_THREADS=2 node --test ...
    ...(process.env.MAILROOM_SMTP_THREADS ? { MAILROOM_SMTP_THREADS: process.env.MAILROOM_SMTP_THREADS } : {}),
    ...env,
  });
  const running = await startMailroom(config, logger ?? pino({ level: process.env.MAILROOM_TEST_LOG ?? 'silent' }), options);
  let domainCounter = 0;
  return {
    running, config, database,
    port(name) {
      const listener = running.listeners.find((l) => l.name.startsWith(LISTENER_PREFIX[name]));
      if (!listener) throw new Error(`no ${name} listener is running`);
      return listener.port;
    },
    async createSender(options = {}) {
      domainCounter += 1;
      const domain = options.domain ?? `sender${domainCounter}.example`;
      const email = options.email ?? `owner@${domain}`;
      const created = await createAccount(running.store, { email, dailyLimit: options.dailyLimit ?? 100_000 });
      await addDomain(running.store, created.account.id, domain, config.hostname);
      await forceVerifyDomain(running.store, await getDomainRow(running.store, domain, null));
      return { email, secret: created.key.secret, accountId: created.account.id, domain };
    },
    async stop() {
      await running.stop();
      await database.drop();
    },
  };
}
