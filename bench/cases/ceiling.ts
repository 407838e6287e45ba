/** The ceiling: the bare smtp-server sink (servers/sink.ts) under the same client and load. */
import { fileURLToPath } from 'node:url';
import type { BenchOptions } from '../options.ts';
import { formatSize } from '../options.ts';
import { forkServer } from '../servers/fork-server.ts';
import { serverEnv } from '../servers/env.ts';
import { makeTempDir } from '../stores.ts';
import { runLoadInChild } from '../load/run-load.ts';
import { loadJob } from './load-job.ts';
import type { BenchCase, CaseKind, Variant } from './types.ts';

const SINK = fileURLToPath(new URL('../servers/sink.ts', import.meta.url));

export const ceiling: CaseKind = {
  name: 'ceiling',
  description: 'bare smtp-server sink with Mailroom\'s options and AUTH, acknowledging without storing',
  plan(variant: Variant, options: BenchOptions): BenchCase[] {
    return [{
      kind: 'ceiling', store: null, size: variant.size, tls: variant.tls, sessions: variant.sessions, connections: options.connections,
      async run() {
        const dir = makeTempDir('mailroom-bench-sink-');
        try {
          const server = await forkServer(SINK, {
            // The sink reads only the SMTP options; the URL is never opened.
            env: serverEnv(dir.path, `sqlite:${dir.path}/unused.db`, { MAILROOM_HOSTNAME: 'sink.bench' }),
            profileDir: options.profileDir,
            profileName: `ceiling-${formatSize(variant.size).replace(' ', '')}-${variant.tls}-${variant.sessions}`,
          });
          try {
            return await runLoadInChild(loadJob(server.target, variant, options), server.cpu);
          } finally {
            await server.stop();
          }
        } finally {
          dir.remove();
        }
      },
    }];
  },
};
