/**
 * A resolver that reports each lookup as it starts and ends, for a person
 * watching a command wait on DNS (`domains verify`): a slow or silent DNS
 * server then shows as the one question still open, not as a hung command.
 */
import type { DnsResolver } from './resolver.ts';

export interface LookupReport {
  type: string;
  name: string;
  /** Undefined while the lookup is open. */
  outcome?: 'answered' | 'failed';
  ms?: number;
}

export function withLookupReports(resolver: DnsResolver, report: (lookup: LookupReport) => void): DnsResolver {
  function watched<T>(type: string, name: string, lookup: () => Promise<T>): Promise<T> {
    const started = performance.now();
    report({ type, name });
    const done = (outcome: 'answered' | 'failed') => report({ type, name, outcome, ms: Math.round(performance.now() - started) });
    return lookup().then((value) => { done('answered'); return value; }, (error: unknown) => { done('failed'); throw error; });
  }
  return {
    mx: (name) => watched('MX', name, () => resolver.mx(name)),
    a: (name) => watched('A', name, () => resolver.a(name)),
    aaaa: (name) => watched('AAAA', name, () => resolver.aaaa(name)),
    txt: (name) => watched('TXT', name, () => resolver.txt(name)),
    cname: (name) => watched('CNAME', name, () => resolver.cname(name)),
    forMailauth: () => resolver.forMailauth(),
  };
}
