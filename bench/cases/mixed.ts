/**
 * Acceptance (as cases/acceptance.ts) with the side traffic a live node has:
 * a webhook for every accepted message (the http role's dispatcher posts them
 * to a local endpoint) and a steady stream of SMTP logins on new connections,
 * one in four with a wrong password (the login throttle's counters), the rest
 * with the right one (the key's last use). Its point is the main thread's
 * event-loop delay (p99 printed): every write goes through the queue writer,
 * so on SQLite no COMMIT runs on the main thread and the delay stays small.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { BenchOptions, StoreName } from '../options.ts';
import { formatSize } from '../options.ts';
import { forkServer } from '../servers/fork-server.ts';
import { serverEnv } from '../servers/env.ts';
import { StoreUnavailable, createBenchDatabase } from '../stores.ts';
import { runLoadInChild } from '../load/run-load.ts';
import { SmtpWire } from '../../test/support/smtp-wire.ts';
import type { LoadTarget } from '../load/job.ts';
import { loadJob } from './load-job.ts';
import { probeWindow, serverProbe } from '../tools/server-probe.ts';
import { CaseSkipped, type BenchCase, type CaseKind, type Variant } from './types.ts';

const MAILROOM = fileURLToPath(new URL('../servers/mailroom.ts', import.meta.url));
/** Logins a second on new connections, beside the load's persistent sessions. */
const LOGINS_PER_SECOND = 20;

export const mixed: CaseKind = {
  name: 'mixed',
  description: 'acceptance plus a webhook per accepted message and 20 logins/s (1 in 4 failing): the main thread\'s event-loop delay',
  plan(variant: Variant, options: BenchOptions): BenchCase[] {
    if (variant.tls !== 'plain' || variant.sessions !== 'reused' || variant.size !== Math.min(...options.sizes)) return [];
    return options.stores.map((store) => mixedCase(store, variant, options));
  },
};

function mixedCase(store: StoreName, variant: Variant, options: BenchOptions): BenchCase {
  return {
    kind: 'mixed', store, size: variant.size, tls: variant.tls, sessions: variant.sessions, connections: options.connections,
    async run() {
      const database = await createBenchDatabase(store).catch((error: unknown) => {
        throw error instanceof StoreUnavailable ? new CaseSkipped(error.message) : error;
      });
      let webhooks = 0;
      const endpoint = http.createServer((request, response) => {
        request.resume().on('end', () => { webhooks++; response.end('ok'); });
      });
      await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
      try {
        const probe = serverProbe(database.dataDir, database.url);
        const server = await forkServer(MAILROOM, {
          env: serverEnv(database.dataDir, database.url, {
            ...probe.env, MAILROOM_ROLES: 'smtp,http', MAILROOM_HTTP_HOST: '127.0.0.1', MAILROOM_HTTP_PORT: '0',
            MAILROOM_BENCH_WEBHOOK_URL: `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/hook`,
            // The failed logins are load, not an attack: never locked out, never slowed down.
            MAILROOM_AUTH_MAX_FAILURES: '1000000000', MAILROOM_AUTH_MAX_ACCOUNT_FAILURES_PER_IP: '1000000000', MAILROOM_AUTH_ACCOUNT_ALERT: '1000000000',
          }),
          execArgv: probe.execArgv,
          profileDir: options.profileDir,
          profileName: `mixed-${store}-${formatSize(variant.size).replace(' ', '')}`,
        });
        const logins = loginStream(server.target);
        try {
          const started = { at: performance.now(), webhooks, logins: logins.count() };
          const result = await runLoadInChild(loadJob(server.target, variant, options), server.cpu, {}, probeWindow(probe, [server.pid], store === 'postgres'));
          const seconds = (performance.now() - started.at) / 1000;
          console.log(`    side traffic: ${((logins.count() - started.logins) / seconds).toFixed(0)} logins/s (${logins.failed()} refused as meant), `
            + `${((webhooks - started.webhooks) / seconds).toFixed(0)} webhooks/s received`);
          return result;
        } finally {
          await logins.stop();
          await server.stop();
        }
      } finally {
        endpoint.closeAllConnections();
        endpoint.close();
        await database.drop();
      }
    },
  };
}

/** LOGINS_PER_SECOND new connections a second: EHLO, AUTH PLAIN (every fourth with a wrong password), QUIT. */
function loginStream(target: LoadTarget) {
  let count = 0;
  let refused = 0;
  let stopped = false;
  const login = async (wrong: boolean) => {
    const wire = await SmtpWire.connect(target.host, target.port);
    try {
      await wire.read();
      wire.write('EHLO logins.bench\r\n');
      await wire.read();
      const password = wrong ? `${target.password}-wrong` : target.password;
      wire.write(`AUTH PLAIN ${Buffer.from(`\0${target.user}\0${password}`).toString('base64')}\r\n`);
      const reply = await wire.read();
      if (reply.code === 535) refused++;
      wire.write('QUIT\r\n');
      count++;
    } finally {
      wire.close();
    }
  };
  const running = (async () => {
    for (let i = 0; !stopped; i++) {
      void login(i % 4 === 3).catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 1000 / LOGINS_PER_SECOND));
    }
  })();
  return { count: () => count, failed: () => refused, stop: async () => { stopped = true; await running; } };
}
