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
 * smtp_tls_security_level=may: opportunistic TLS must never make mail undeliverable — unless
 * the recipient domain's MTA-STS policy (mta-sts.ts) is in `enforce` mode: then only the MX hosts
 * it names are tried, each over STARTTLS with a certificate valid for its name, and anything
 * less defers the mail (never plaintext). A `testing` policy changes nothing but the attempt
 * record, which says what would have failed.
 */
import type { ConnectionPool } from './connection-pool.ts';
import { classifyRawReply, classifySocketError, parseReply } from '../remote-replies/classify.ts';
import { delivered, outcomeOf } from '../queue/outcome.ts';
import type { AttemptFacts, Outcome, StsAttemptFacts, TlsFacts } from '../queue/outcome.ts';
import type { Classification } from '../remote-replies/verdict.ts';
import type { Route, RouteHost } from './route.ts';
import { policyNamesMx } from './mta-sts.ts';
import type { StsPolicy } from './mta-sts.ts';
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
  /** Trusted roots for MX certificates; undefined: system CAs plus NODE_EXTRA_CA_CERTS. */
  ca?: string[];
  /** When the attempt began (performance.now()), so its duration counts the DNS lookups of its route too. */
  startedAt?: number;
}

interface Failure { verdict: Classification; reply: string; mx: string | null; ip: string | null; tls: TlsFacts; sts?: StsAttemptFacts }

type Facts = (mx: string | null, ip: string | null, tls: TlsFacts, sts?: StsAttemptFacts) => AttemptFacts;

/** What trying one address came to: outcomes that end the attempt, or a failure that moves on. */
type AddressResult = { final: Map<string, Outcome> } | { next: Failure };

export async function sendEnvelope(envelope: Envelope, route: Route, opts: SendOptions): Promise<Map<string, Outcome>> {
  const started = opts.startedAt ?? performance.now();
  const recipients = [...new Set(envelope.recipients)];
  const facts: Facts = (mx, ip, tls, sts) =>
    ({ mx, ip, tls, durationMs: Math.round(performance.now() - started), ...(sts ? { mtaSts: sts } : {}) });

  if (route.kind === 'undeliverable') {
    const verdict: Classification = route.temporary
      ? { kind: 'deferred', rule: 'route-temporary' }
      : { kind: 'bounced', rule: 'no-route', bounceClass: 'no-mx' };
    return allRecipients(recipients, () => outcomeOf(verdict, route.reply, facts(null, null, { used: false })));
  }

  const policy = route.mtaSts && route.mtaSts.mode !== 'none' ? route.mtaSts : null;
  let hosts = route.hosts;
  if (policy?.mode === 'enforce') {
    hosts = hosts.filter((host) => policyNamesMx(policy, host.name));
    if (hosts.length === 0) {
      const failure = `none of the MX hosts (${route.hosts.map((h) => h.name).join(', ')}) is named by the policy (mx: ${policy.mx.join(', ')})`;
      const reply = `MTA-STS policy of ${policy.domain} (enforce, id ${policy.id}): ${failure}; not delivered`;
      const sts = stsFacts(policy, failure);
      return allRecipients(recipients, () => outcomeOf({ kind: 'deferred', rule: 'mta-sts-mx-mismatch' }, reply, facts(route.hosts[0]?.name ?? null, null, { used: false }, sts)));
    }
  }

  let last: Failure | null = null;
  const addresses = hosts.flatMap((host) => host.ips.map((ip) => ({ host, ip }))).slice(0, opts.maxAddresses ?? 5);
  for (const { host, ip } of addresses) {
    const result = await tryAddress(envelope, recipients, host, ip, policy, opts, facts);
    if ('final' in result) return result.final;
    last = result.next;
  }
  const failure: Failure = last ?? { verdict: { kind: 'deferred', rule: 'no-address' }, reply: 'no address to try', mx: null, ip: null, tls: { used: false }, sts: policy ? stsFacts(policy) : undefined };
  return allRecipients(recipients, () => outcomeOf(failure.verdict, failure.reply, facts(failure.mx, failure.ip, failure.tls, failure.sts)));
}

async function tryAddress(
  envelope: Envelope,
  recipients: string[],
  host: RouteHost,
  ip: string,
  policy: StsPolicy | null,
  opts: SendOptions,
  makeFacts: Facts,
): Promise<AddressResult> {
  const enforce = policy?.mode === 'enforce';
  // A session verified for this MX name is kept apart from opportunistic ones (which may be in clear).
  const key = `${ip}:${host.port}${opts.auth ? `|${opts.auth.user}` : ''}${enforce ? `|sts:${host.name}` : ''}`;
  const open = () => (enforce ? openVerified(host, ip, opts) : openWithFallback(host, ip, opts));
  const noTls: TlsFacts = { used: false };
  // Until a session is up, the policy is noted without a failure; a failure to set up TLS under `enforce` says why below.
  let sts: StsAttemptFacts | undefined = policy ? stsFacts(policy) : undefined;
  const facts = (mx: string | null, at: string | null, tls: TlsFacts) => makeFacts(mx, at, tls, sts);

  // Twice at most: a reused session may turn out to have been dropped by the server while idle.
  for (let round = 0; round < 2; round++) {
    let lease;
    try {
      lease = await opts.pool.acquire(key, open);
    } catch (err) {
      if (enforce && (err as { code?: unknown }).code === 'ETLS') {
        // Never a bounce, whatever the server answered to STARTTLS: the policy asks us to wait, not to give up.
        const failure = `${host.name} ${tlsFailure(err)}`;
        sts = stsFacts(policy, failure);
        const reply = `MTA-STS policy of ${policy.domain} (enforce, id ${policy.id}) requires TLS with a valid certificate: ${failure}; not sent in clear`;
        return { next: { verdict: { kind: 'deferred', rule: 'mta-sts-tls' }, reply, mx: host.name, ip, tls: noTls, sts } };
      }
      const failed = classifySocketError(err);
      // A 5xx at greeting or EHLO is the server's answer for the whole domain.
      if (replyCode(failed.reply) >= 500) return { final: allRecipients(recipients, () => outcomeOf(failed, failed.reply, facts(host.name, ip, noTls))) };
      return { next: { verdict: failed, reply: failed.reply, mx: host.name, ip, tls: noTls, sts } };
    }
    const session = lease.session;
    if (policy?.mode === 'testing') sts = stsFacts(policy, testingFailure(policy, host, session));
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
        return { next: { verdict, reply: result.reply, mx: host.name, ip, tls: session.tls, sts } };
      }

      case 'broken': {
        lease.release(false);
        const failed = classifySocketError(result.error);
        const untouched = result.decided.length === 0 && !result.mayHaveDelivered;
        if (untouched && lease.reused && round === 0) continue;
        if (untouched) return { next: { verdict: failed, reply: failed.reply, mx: host.name, ip, tls: session.tls, sts } };
        // Some recipients were already answered (or the message may be there): settle this attempt.
        const decided = new Map(result.decided.map((r) => [r.recipient, outcomeFor(r, here)]));
        return { final: allRecipients(recipients, (r) => decided.get(r) ?? outcomeOf(failed, failed.reply, here)) };
      }
    }
  }
  // Both rounds found a dead reused session and could not reset it: move on.
  return { next: { verdict: { kind: 'deferred', rule: 'connection-lost' }, reply: 'connection lost while reusing an idle session', mx: host.name, ip, tls: noTls, sts } };
}

function sessionBase(host: RouteHost, ip: string, opts: SendOptions) {
  return {
    ip,
    port: host.port,
    mxName: host.name,
    heloName: opts.heloName,
    timeouts: { ...DEFAULT_TIMEOUTS, ...opts.timeouts },
    auth: opts.auth ?? null,
    ca: opts.ca,
  };
}

/** MTA-STS `enforce`: STARTTLS with a certificate valid for the MX name, or no session at all. */
function openVerified(host: RouteHost, ip: string, opts: SendOptions): Promise<SmtpSession> {
  return openSession({ ...sessionBase(host, ip, opts), startTls: true, requireVerifiedTls: true });
}

async function openWithFallback(host: RouteHost, ip: string, opts: SendOptions): Promise<SmtpSession> {
  const base = sessionBase(host, ip, opts);
  try {
    return await openSession({ ...base, startTls: true });
  } catch (err) {
    // Never fall back to plaintext with credentials: they would cross the network in clear.
    if ((err as { code?: unknown }).code !== 'ETLS' || base.auth) throw err;
    return openSession({ ...base, startTls: false });
  }
}

function stsFacts(policy: StsPolicy, failure?: string): StsAttemptFacts {
  return failure ? { mode: policy.mode, policyId: policy.id, failure } : { mode: policy.mode, policyId: policy.id };
}

/** What an `enforce` policy would have refused on this session (a `testing` policy only records it). */
function testingFailure(policy: StsPolicy, host: RouteHost, session: SmtpSession): string | undefined {
  if (!policyNamesMx(policy, host.name)) return `${host.name} is not named by the policy (mx: ${policy.mx.join(', ')})`;
  if (!session.tls.used) return `${host.name} did not offer STARTTLS (or its TLS handshake failed); the message went in clear`;
  if (session.certificateProblem) return `the certificate of ${host.name} is not valid for it: ${session.certificateProblem}`;
  return undefined;
}

/** The STARTTLS failure of a verified session, in words: not offered, or the certificate refused. */
function tlsFailure(err: unknown): string {
  const e = err as { message?: string; response?: unknown; cause?: { message?: string } };
  if (typeof e.response === 'string' && e.response.trim()) return `refused STARTTLS (${e.response.trim()})`;
  const why = e.cause?.message ?? e.message ?? String(err);
  return `failed the TLS handshake: ${why}`;
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
