/**
 * Durable acceptance: Mailroom (servers/mailroom.ts) on a fresh store; each
 * 250 after DATA means the message and its delivery row are committed.
 */
import { fileURLToPath } from 'node:url';
import type { BenchOptions, StoreName } from '../options.ts';
import { formatSize } from '../options.ts';
import { forkServer } from '../servers/fork-server.ts';
import { serverEnv } from '../servers/env.ts';
import { StoreUnavailable, createBenchDatabase } from '../stores.ts';
import { runLoadInChild } from '../load/run-load.ts';
import { loadJob } from './load-job.ts';
import { probeWindow, serverProbe } from '../tools/server-probe.ts';
import { CaseSkipped, type BenchCase, type CaseKind, type Variant } from './types.ts';

const MAILROOM = fileURLToPath(new URL('../servers/mailroom.ts', import.meta.url));

export const acceptance: CaseKind = {
  name: 'acceptance',
  description: 'Mailroom submission: AUTH, policy checks, group commit; 250 only after the commit',
  plan(variant: Variant, options: BenchOptions): BenchCase[] {
    return options.stores.map((store) => acceptanceCase(store, variant, options));
  },
};

function acceptanceCase(store: StoreName, variant: Variant, options: BenchOptions): BenchCase {
  return {
    kind: 'acceptance', store, size: variant.size, tls: variant.tls, sessions: variant.sessions, connections: options.connections,
    async run() {
      const database = await createBenchDatabase(store).catch((error: unknown) => {
        throw error instanceof StoreUnavailable ? new CaseSkipped(error.message) : error;
      });
      try {
        const probe = serverProbe(database.dataDir, database.url);
        const server = await forkServer(MAILROOM, {
          env: serverEnv(database.dataDir, database.url, probe.env),
          execArgv: probe.execArgv,
          profileDir: options.profileDir,
          profileName: `acceptance-${store}-${formatSize(variant.size).replace(' ', '')}-${variant.tls}-${variant.sessions}`,
        });
        try {
          return await runLoadInChild(loadJob(server.target, variant, options), server.cpu, { serverPid: server.pid, postgres: store === 'postgres' }, probeWindow(probe, [server.pid], store === 'postgres'));
        } finally {
          await server.stop();
        }
      } finally {
        await database.drop();
      }
    },
  };
}
