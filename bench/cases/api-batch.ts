/**
 * API sends, one message per call against a batch of 1,000 per call
 * (POST /api/v1/messages/batch), on each store: the µs/msg column is the
 * per-message cost of each. Mailroom runs in this process (HTTP role only,
 * no delivery), so "server cpu" is this whole process — HTTP client
 * included — and "client cpu" is 0; compare the two rows with each other,
 * not with the SMTP rows. Run at the smallest size, plain, only.
 */
import pino from 'pino';
import { loadConfig } from '../../src/config/load.ts';
import { startMailroom } from '../../src/main.ts';
import { createAccount } from '../../src/accounts/accounts.ts';
import { addDomain, forceVerifyDomain, getDomainRow } from '../../src/domains/domains.ts';
import type { BenchOptions, StoreName } from '../options.ts';
import { serverEnv } from '../servers/env.ts';
import { StoreUnavailable, createBenchDatabase } from '../stores.ts';
import type { LoadResult } from '../load/job.ts';
import { CaseSkipped, type BenchCase, type CaseKind, type Variant } from './types.ts';

const BATCH = 1000;
const DOMAIN = 'bench-sender.example';

export const apiBatch: CaseKind = {
  name: 'api-batch',
  description: `HTTP API: single sends (one message per call) against batch sends (${BATCH} per call); compare µs/msg`,
  plan(variant: Variant, options: BenchOptions): BenchCase[] {
    if (variant.tls !== 'plain' || variant.sessions !== 'reused' || variant.size !== Math.min(...options.sizes)) return [];
    return options.stores.flatMap((store) => (['single', 'batch'] as const).map((mode) => apiCase(store, mode, variant, options)));
  },
};

function apiCase(store: StoreName, mode: 'single' | 'batch', variant: Variant, options: BenchOptions): BenchCase {
  const connections = mode === 'single' ? options.connections : 1;
  return {
    kind: `api-${mode}`, store, size: variant.size, tls: 'plain', sessions: 'reused', connections,
    async run() {
      const database = await createBenchDatabase(store).catch((error: unknown) => {
        throw error instanceof StoreUnavailable ? new CaseSkipped(error.message) : error;
      });
      const config = loadConfig(serverEnv(database.dataDir, database.url, { MAILROOM_ROLES: 'http', MAILROOM_HTTP_HOST: '127.0.0.1', MAILROOM_HTTP_PORT: '0' }));
      const running = await startMailroom(config, pino({ level: 'silent' }));
      try {
        const created = await createAccount(running.store, { email: `owner@${DOMAIN}`, dailyLimit: 1_000_000_000 });
        await addDomain(running.store, created.account.id, DOMAIN, config.hostname);
        await forceVerifyDomain(running.store, await getDomainRow(running.store, DOMAIN, null));
        const http = running.listeners.find((l) => l.name.startsWith('http'))!;
        const post = postTo(`http://127.0.0.1:${http.port}`, created.key.secret);
        const text = 'x'.repeat(Math.max(1, variant.size - 300));
        const send = mode === 'single'
          ? async () => { await post('/api/v1/messages', { from: `app@${DOMAIN}`, to: 'someone@recipient.example', subject: 'bench', text }); return 1; }
          : async () => {
            const recipients = Array.from({ length: BATCH }, (_, i) => ({ to: `r${i}@recipient.example` }));
            const answer = await post('/api/v1/messages/batch', { from: `app@${DOMAIN}`, subject: 'bench', text, recipients }) as { accepted: number };
            return answer.accepted;
          };
        return await measure(send, connections, options);
      } finally {
        await running.stop();
        await database.drop();
      }
    },
  };
}

function postTo(base: string, secret: string) {
  return async (path: string, body: unknown): Promise<unknown> => {
    const response = await fetch(base + path, { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const answer = await response.json();
    if (response.status !== 202) throw new Error(`${path}: ${response.status} ${JSON.stringify(answer).slice(0, 200)}`);
    return answer;
  };
}

/** Runs `send` in `connections` loops; counts the messages of calls that end in the measured seconds, their latencies, and this process's CPU over those seconds. */
async function measure(send: () => Promise<number>, connections: number, options: BenchOptions): Promise<LoadResult> {
  const start = Date.now();
  const openAt = start + options.warmupSeconds * 1000;
  const closeAt = openAt + options.seconds * 1000;
  let messages = 0;
  let errors = 0;
  let firstError: string | null = null;
  const latencies: number[] = [];
  let cpuAtOpen: NodeJS.CpuUsage | null = null;
  const loop = async () => {
    while (Date.now() < closeAt) {
      const began = Date.now();
      try {
        const sent = await send();
        // Completions inside the window: a batch call may well take longer than the window's start.
        const ended = Date.now();
        if (ended >= openAt && ended <= closeAt) {
          messages += sent;
          latencies.push(Date.now() - began);
        }
      } catch (error) {
        errors += 1;
        firstError ??= (error as Error).message;
      }
    }
  };
  const opener = setTimeout(() => { cpuAtOpen = process.cpuUsage(); }, openAt - start);
  await Promise.all(Array.from({ length: connections }, loop));
  clearTimeout(opener);
  const cpu = process.cpuUsage(cpuAtOpen ?? undefined);
  const seconds = options.seconds;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    connected: connections, messages, seconds, perSecond: messages / seconds,
    p50Ms: at(0.5), p99Ms: at(0.99), maxMs: latencies[latencies.length - 1] ?? 0, errors, firstError,
    clientCpu: 0, serverCpu: ((cpu.user + cpu.system) / 1000 / (seconds * 1000)) * 100, otherCpu: 0,
  };
}
