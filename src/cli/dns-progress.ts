/**
 * What `domains verify` prints on stderr while it waits on DNS: each question
 * as it is asked and answered, and every few seconds which ones are still
 * open, so a DNS server that does not answer is visible at once.
 */
import { withLookupReports, type LookupReport } from '../dns/progress.ts';
import type { DnsResolver } from '../dns/resolver.ts';

const STILL_WAITING_EVERY_MS = 3_000;

export function showDnsProgress(resolver: DnsResolver, servers: string, write: (line: string) => void): { resolver: DnsResolver; stop(): void } {
  const open = new Map<string, number>();
  const started = Date.now();
  write(`Asking DNS (${servers}) for the domain's records…`);
  const watched = withLookupReports(resolver, (lookup: LookupReport) => {
    const key = `${lookup.type} ${lookup.name}`;
    if (!lookup.outcome) {
      open.set(key, Date.now());
      return;
    }
    open.delete(key);
    write(`  ${lookup.outcome === 'answered' ? 'answered' : 'no answer'}  ${key} (${lookup.ms} ms)`);
  });
  const ticker = setInterval(() => {
    if (open.size === 0) return;
    write(`  still waiting (${Math.round((Date.now() - started) / 1000)} s) for ${[...open.keys()].join(', ')}`);
  }, STILL_WAITING_EVERY_MS);
  ticker.unref();
  return { resolver: watched, stop: () => clearInterval(ticker) };
}
