/**
 * A short-lived answer cache in front of the resolver for delivery: a busy
 * queue sends many messages to the same few domains, and asking for the same
 * MX and A records before every transaction would put the DNS server on the
 * hot path. Only answers are cached, never failures, so a temporary DNS error
 * is asked again at the next attempt. Domain verification uses the uncached
 * resolver: a user who just published a record must see it at once.
 */
import type { DnsResolver, MxRecord } from './resolver.ts';

export function withAnswerCache(resolver: DnsResolver, ttlMs = 30_000, now: () => number = Date.now): DnsResolver {
  const cache = new Map<string, { until: number; value: Promise<unknown> }>();
  function cached<T>(kind: string, name: string, lookup: () => Promise<T>): Promise<T> {
    const key = `${kind} ${name.toLowerCase()}`;
    const hit = cache.get(key);
    if (hit && hit.until > now()) return hit.value as Promise<T>;
    const value = lookup();
    cache.set(key, { until: now() + ttlMs, value });
    value.catch(() => cache.delete(key));
    if (cache.size > 10_000) cache.clear();
    return value;
  }
  return {
    mx: (name) => cached<MxRecord[]>('mx', name, () => resolver.mx(name)),
    a: (name) => cached<string[]>('a', name, () => resolver.a(name)),
    aaaa: (name) => cached<string[]>('aaaa', name, () => resolver.aaaa(name)),
    txt: (name) => resolver.txt(name),
    cname: (name) => resolver.cname(name),
    forMailauth: () => resolver.forMailauth(),
  };
}
