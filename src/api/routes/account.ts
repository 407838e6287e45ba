/**
 * The signed-in account: what the profile page and the Gmail guide show —
 * SMTP server, ports with their connection types, username, and how much of
 * the daily limit is used.
 */
import { Type } from 'typebox';
import { readUsage } from '../../queue/usage.ts';
import { readStoredBytes } from '../../queue/stored-bytes.ts';
import type { ApiApp, HttpDeps } from '../deps.ts';
import { currentCertificateStatus } from '../../tls/certificate-status.ts';
import { principalOf } from '../auth.ts';
import { hostnameWarning } from '../../domains/server-host.ts';
import { ERRORS, Timestamp, iso, isoOrNull } from '../schemas.ts';

const NOTICE_DAYS = 7;

const Connection = Type.Enum(['unsecured', 'STARTTLS', 'SSL/TLS']);

export const StorageUse = Type.Object({
  usedBytes: Type.Integer({ description: 'message bytes the account holds: queued, and finished but not yet expired by retention' }),
  budgetBytes: Type.Union([Type.Integer(), Type.Null()], { description: 'MAILROOM_STORAGE_BUDGET; null when there is none' }),
});

const AccountResponse = Type.Object({
  id: Type.String(),
  email: Type.String(),
  isAdmin: Type.Boolean(),
  dailyLimit: Type.Integer({ description: 'emails per rolling 24 hours; one recipient is one email' }),
  sentLast24h: Type.Integer(),
  resetsAt: Type.Union([Timestamp, Type.Null()], { description: 'when the oldest email still counted leaves the 24-hour window' }),
  notices: Type.Array(Type.Object({
    type: Type.Enum(['auth.failures']), at: Timestamp, message: Type.String(),
  }), { description: 'things the owner should know of from the last 7 days, newest first: many failed logins for this account (they are slowed down; logins from addresses that have not failed are not affected)' }),
  storage: StorageUse,
  smtp: Type.Object({
    host: Type.String(),
    hostWarning: Type.Union([Type.String(), Type.Null()], { description: 'set when host is not a fully qualified name, so mail clients (and Gmail) cannot use it yet; says the fix' }),
    username: Type.String({ description: 'the account email; the password is a secret key' }),
    insecureAuth: Type.Boolean({ description: 'whether AUTH is allowed before TLS (the guide\'s "Unsecured connection")' }),
    ports: Type.Array(Type.Object({ port: Type.Integer(), connections: Type.Array(Connection) })),
    certificate: Type.Union([Type.Object({
      subject: Type.String(), issuer: Type.String(), names: Type.Array(Type.String()), validFrom: Type.String(), validTo: Type.String(),
      daysLeft: Type.Integer(), selfSigned: Type.Boolean(), trusted: Type.Boolean(), nameMatches: Type.Boolean(), expired: Type.Boolean(),
      gmailAccepts: Type.Boolean({ description: 'CA-signed, unexpired and naming the host shown: what Gmail\'s "Send mail as" requires' }),
      problems: Type.Array(Type.String(), { description: 'why Gmail would refuse it, in plain words' }),
    }), Type.Null()]),
  }),
});

export function accountRoutes(app: ApiApp, deps: HttpDeps): void {
  const { config, store } = deps;

  app.get('/account', {
    schema: { tags: ['account'], summary: 'The account, its SMTP settings and its sending limit', response: { 200: AccountResponse, ...ERRORS } },
  }, async (request) => {
    const principal = principalOf(request);
    const usage = await readUsage(store.db, principal.accountId, Date.now());
    const stored = await readStoredBytes(store.db, [principal.accountId]);
    // Per request: an ACME renewal on any node changes what clients are served.
    const certificate = await currentCertificateStatus(store, config.hostname, deps.certificates ?? null);
    const notices = await store.db.selectFrom('message_events').select(['created_at', 'reply'])
      .where('account_id', '=', principal.accountId).where('type', '=', 'auth.failures').where('created_at', '>', Date.now() - NOTICE_DAYS * 86_400_000)
      .orderBy('id', 'desc').limit(5).execute();
    return {
      id: principal.accountId, email: principal.email, isAdmin: principal.isAdmin, dailyLimit: principal.dailyLimit,
      sentLast24h: usage.used, resetsAt: isoOrNull(usage.nextRelease),
      notices: notices.map((notice) => ({ type: 'auth.failures' as const, at: iso(Number(notice.created_at)), message: notice.reply ?? '' })),
      smtp: { host: config.hostname, hostWarning: hostnameWarning(config.hostname), username: principal.email, insecureAuth: config.insecureAuth, ports: smtpPorts(deps), certificate },
      storage: { usedBytes: stored.get(principal.accountId) ?? 0, budgetBytes: config.storageBudget },
    };
  });
}

type Port = { port: number; connections: Array<'unsecured' | 'STARTTLS' | 'SSL/TLS'> };

function smtpPorts(deps: HttpDeps): Port[] {
  const { config } = deps;
  const ports: Port[] = [];
  const plain = actualPort(deps, config.smtpPort, 'submission (plain');
  if (plain !== null) ports.push({ port: plain, connections: config.insecureAuth ? ['STARTTLS', 'unsecured'] : ['STARTTLS'] });
  const implicit = actualPort(deps, config.smtpsPort, 'submission (implicit');
  if (implicit !== null) ports.push({ port: implicit, connections: ['SSL/TLS'] });
  return ports;
}

/** The configured port; port 0 (chosen by the system, as in tests) is read from this node's listener. */
function actualPort(deps: HttpDeps, configured: number | null, listenerPrefix: string): number | null {
  if (configured === null) return null;
  if (configured !== 0) return configured;
  return deps.listeners.find((listener) => listener.name.startsWith(listenerPrefix))?.port ?? null;
}

