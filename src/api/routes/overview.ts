/**
 * GET /overview: the dashboard's first page — sending against the limit,
 * the last 24 hours' outcomes with their main reasons, the queue, the
 * certificate, and the domains that need attention.
 */
import { Type } from 'typebox';
import { readUsage } from '../../queue/usage.ts';
import { readDeliveryOverview } from '../../events/overview.ts';
import { listDomains } from '../../domains/domains.ts';
import { currentCertificateStatus } from '../../tls/certificate-status.ts';
import { hostnameWarning } from '../../domains/server-host.ts';
import type { ApiApp, HttpDeps } from '../deps.ts';
import { principalOf } from '../auth.ts';
import { AccountScopeQuery, accountScope } from '../account-scope.ts';
import { ERRORS, Timestamp, isoOrNull } from '../schemas.ts';

const Reason = Type.Object({ reply: Type.String(), count: Type.Integer() });

const Overview = Type.Object({
  scope: Type.Union([Type.String(), Type.Null()], { description: 'the account shown; null: every account' }),
  sending: Type.Union([Type.Object({ sentLast24h: Type.Integer(), dailyLimit: Type.Integer(), resetsAt: Type.Union([Timestamp, Type.Null()]) }), Type.Null()]),
  deliveries: Type.Object({
    counts: Type.Object({
      delivered: Type.Integer(), deferred: Type.Integer(), bounced: Type.Integer(), expired: Type.Integer(), suppressed: Type.Integer(), queued: Type.Integer(),
    }, { description: 'last 24 hours; queued and deferred as they stand now' }),
    deliveryRate: Type.Union([Type.Number(), Type.Null()], { description: 'delivered ÷ (delivered + bounced + expired), last 24 hours' }),
    reasons: Type.Object({ deferred: Type.Array(Reason), bounced: Type.Array(Reason) }),
  }),
  queue: Type.Object({ depth: Type.Integer(), oldestQueuedAt: Type.Union([Timestamp, Type.Null()]) }),
  certificate: Type.Union([Type.Object({
    subject: Type.String(), daysLeft: Type.Integer(), selfSigned: Type.Boolean(), gmailAccepts: Type.Boolean(), expired: Type.Boolean(), problems: Type.Array(Type.String()),
  }), Type.Null()]),
  hostWarning: Type.Union([Type.String(), Type.Null()]),
  domainsNeedingAttention: Type.Array(Type.Object({ name: Type.String(), verified: Type.Boolean(), problem: Type.String() })),
});

export function overviewRoutes(app: ApiApp, deps: HttpDeps): void {
  const { store, config } = deps;

  app.get('/overview', {
    schema: { tags: ['account'], summary: 'What the dashboard shows first', querystring: Type.Object(AccountScopeQuery), response: { 200: Overview, ...ERRORS } },
  }, async (request) => {
    const principal = principalOf(request);
    const accountId = await accountScope(store, request, request.query.account);
    const now = Date.now();
    const [usage, deliveries, domains, certificate] = await Promise.all([
      accountId === null ? null : readUsage(store.db, accountId, now),
      readDeliveryOverview(store, accountId, now),
      listDomains(store, accountId),
      currentCertificateStatus(store, config.hostname, deps.certificates ?? null),
    ]);
    const limit = accountId === principal.accountId ? principal.dailyLimit : null;
    return {
      scope: accountId === null ? null : accountId === principal.accountId ? principal.email : request.query.account!,
      sending: usage && limit !== null ? { sentLast24h: usage.used, dailyLimit: limit, resetsAt: isoOrNull(usage.nextRelease) } : null,
      deliveries: { counts: deliveries.counts, deliveryRate: deliveries.deliveryRate, reasons: deliveries.reasons },
      queue: { depth: deliveries.queue.depth, oldestQueuedAt: isoOrNull(deliveries.queue.oldestQueuedAt) },
      certificate: certificate && {
        subject: certificate.subject, daysLeft: certificate.daysLeft, selfSigned: certificate.selfSigned, gmailAccepts: certificate.gmailAccepts,
        expired: certificate.expired, problems: certificate.problems,
      },
      hostWarning: hostnameWarning(config.hostname),
      domainsNeedingAttention: domains.flatMap((domain) => {
        const failing = (domain.lastCheck ?? []).find((check) => !check.ok && check.purpose !== 'dmarc');
        if (domain.verified && !failing) return [];
        const problem = !domain.verified
          ? failing?.error ?? 'Not verified yet: publish its DNS records and press Verify.'
          : failing!.error ?? `${failing!.purpose} check failed`;
        return [{ name: domain.name, verified: domain.verified, problem }];
      }),
    };
  });
}
