/**
 * One delivery attempt of one envelope (recipients all on one domain) over a resolved route:
 * walk the MX addresses in order until one takes responsibility, and return an Outcome per
 * recipient. The steps, in the order a session meets them:
 *
 * - no route (null MX, no such domain, DNS failing) → every recipient gets the route's verdict;
 * - cannot connect, greeting/EHLO/TLS setup fails or says 4xx, MAIL FROM gets 4xx → next address;
 * - a 5xx at greeting, EHLO or MAIL FROM → that is the domain's answer, for every recipient;
 * - RCPT and DATA replies → each recipient's own outcome, no further address is tried (the
 *   server has spoken; another MX of the same domain would not know better, and after DATA
 *   a retry elsewhere could deliver twice);
 * - the session breaks before any recipient was accepted → next address; after → deferred.
 *
 * A TLS handshake that fails is retried once in plaintext on the same address, like Postfix's
 * smtp_tls_security_level=may: opportunistic TLS must never make mail undeliverable.
 */
import type { ConnectionPool } from './connection-pool.ts';
import { classifyRawReply, classifySocketError, parseReply } from './classify.ts';
import { delivered, outcomeOf } from './outcome.ts';
import type { AttemptFacts, Outcome, TlsFacts, Verdict } from './outcome.ts';
import type { Route, RouteHost } from './route.ts';
import { DEFAULT_TIMEOUTS, openSession } from './smtp-client.ts';
import type { RecipientReply, SessionTimeouts, SmtpSession } from './smtp-client.ts';

export interface Envelope {
  from: string;
  /** All on one domain: they share the route. */
  recipients: readonly string[];
  raw: Buffer;
}

export interface SendOptions {
  /** Our name in EHLO (MAILROOM_HOSTNAME). */
  heloName: string;
  /** Shared by every attempt of the process, so sessions are reused across envelopes. */
  pool: ConnectionPool<SmtpSession>;
  timeouts?: Partial<SessionTimeouts>;
  /** Credentials for the relay host, when the route is one. */
  auth?: { user: string; pass: string } | null;
  /** Addresses tried per attempt at most (Postfix's smtp_mx_address_limit is 5), so an attempt has a bounded duration. */
  maxAddresses?: number;
}

interface Failure { verdict: Verdict; reply: string; mx: string | null; ip: string | null; tls: TlsFacts }

/** What trying one address came to: outcomes that end the attempt, or a failure that moves on. */
type AddressResult = { final: Map<string, Outcome> } | { next: Failure };

export async function sendEnvelope(envelope: Envelope, route: Route, opts: SendOptions): Promise<Map<string, Outcome>> {
  const started = performance.now();
  const recipients = [...new Set(envelope.recipients)];
  const facts = (mx: string | null, ip: string | null, tls: TlsFacts): AttemptFacts =>
    ({ mx, ip, tls, durationMs: Math.round(performance.now() - started) });

  if (route.kind === 'undeliverable') {
    const verdict: Verdict = route.temporary
      ? { kind: 'deferred', rule: 'route-temporary' }
      : { kind: 'bounced', rule: 'no-route', bounceClass: 'no-mx' };
    return allRecipients(recipients, () => outcomeOf(verdict, route.reply, facts(null, null, { used: false })));
  }

  let last: Failure | null = null;
  const addresses = route.hosts.flatMap((host) => host.ips.map((ip) => ({ host, ip }))).slice(0, opts.maxAddresses ?? 5);
  for (const { host, ip } of addresses) {
    const result = await tryAddress(envelope, recipients, host, ip, opts, facts);
    if ('final' in result) return result.final;
    last = result.next;
  }
  const failure = last ?? { verdict: { kind: 'deferred', rule: 'no-address' }, reply: 'no address to try', mx: null, ip: null, tls: { used: false } };
  return allRecipients(recipients, () => outcomeOf(failure.verdict, failure.reply, facts(failure.mx, failure.ip, failure.tls)));
}

async function tryAddress(
  envelope: Envelope,
  recipients: string[],
  host: RouteHost,
  ip: string,
  opts: SendOptions,
  facts: (mx: string | null, ip: string | null, tls: TlsFacts) => AttemptFacts,
): Promise<AddressResult> {
  const key = `${ip}:${host.port}${opts.auth ? `|${opts.auth.user}` : ''}`;
  const open = () => openWithFallback(host, ip, opts);
  const noTls: TlsFacts = { used: false };

  // Twice at most: a reused session may turn out to have been dropped by the server while idle.
  for (let round = 0; round < 2; round++) {
    let lease;
    try {
      lease = await opts.pool.acquire(key, open);
    } catch (err) {
      const failed = classifySocketError(err);
      // A 5xx at greeting or EHLO is the server's answer for the whole domain.
      if (replyCode(failed.reply) >= 500) return { final: allRecipients(recipients, () => outcomeOf(failed, failed.reply, facts(host.name, ip, noTls))) };
      return { next: { verdict: failed, reply: failed.reply, mx: host.name, ip, tls: noTls } };
    }
    const session = lease.session;
    if (lease.reused && session.needsReset) {
      try {
        await session.reset();
      } catch {
        lease.release(false);
        continue;
      }
    }

    const result = await session.send(envelope.from, recipients, envelope.raw);
    const here = facts(host.name, ip, session.tls);
    switch (result.kind) {
      case 'replies':
        lease.release(true);
        return { final: new Map(result.replies.map((r) => [r.recipient, outcomeFor(r, here)])) };

      case 'sender-refused': {
        lease.release(false);
        const verdict = classifyRawReply(result.reply);
        if (replyCode(result.reply) >= 500) return { final: allRecipients(recipients, () => outcomeOf(verdict, result.reply, here)) };
        return { next: { verdict, reply: result.reply, mx: host.name, ip, tls: session.tls } };
      }

      case 'broken': {
        lease.release(false);
        const failed = classifySocketError(result.error);
        const untouched = result.decided.length === 0 && !result.mayHaveDelivered;
        if (untouched && lease.reused && round === 0) continue;
        if (untouched) return { next: { verdict: failed, reply: failed.reply, mx: host.name, ip, tls: session.tls } };
        // Some recipients were already answered (or the message may be there): settle this attempt.
        const decided = new Map(result.decided.map((r) => [r.recipient, outcomeFor(r, here)]));
        return { final: allRecipients(recipients, (r) => decided.get(r) ?? outcomeOf(failed, failed.reply, here)) };
      }
    }
  }
  // Both rounds found a dead reused session and could not reset it: move on.
  return { next: { verdict: { kind: 'deferred', rule: 'connection-lost' }, reply: 'connection lost while reusing an idle session', mx: host.name, ip, tls: noTls } };
}

async function openWithFallback(host: RouteHost, ip: string, opts: SendOptions): Promise<SmtpSession> {
  const base = {
    ip,
    port: host.port,
    mxName: host.name,
    heloName: opts.heloName,
    timeouts: { ...DEFAULT_TIMEOUTS, ...opts.timeouts },
    auth: opts.auth ?? null,
  };
  try {
    return await openSession({ ...base, startTls: true });
  } catch (err) {
    // Never fall back to plaintext with credentials: they would cross the network in clear.
    if ((err as { code?: unknown }).code !== 'ETLS' || base.auth) throw err;
    return openSession({ ...base, startTls: false });
  }
}

function outcomeFor(r: RecipientReply, facts: AttemptFacts): Outcome {
  return r.ok ? delivered(r.reply, facts) : outcomeOf(classifyRawReply(r.reply), r.reply, facts);
}

function allRecipients(recipients: string[], make: (recipient: string) => Outcome): Map<string, Outcome> {
  return new Map(recipients.map((r) => [r, make(r)]));
}

function replyCode(reply: string): number {
  return parseReply(reply).code;
}
