/**
 * Sending domains of the account. The answers of POST and verify have the
 * shapes of the CLI's `domains add --json` and `domains verify --json`.
 */
import { Type } from 'typebox';
import { addDomain, deleteDomain, domainRecords, getDomainRow, listDomains, toDomain, verifyDomain } from '../../domains/domains.ts';
import { dkimRotationView, startDkimRotation, type DkimRotationView } from '../../domains/dkim-rotation.ts';
import type { DnsRecordToPublish, RecordPurpose } from '../../domains/records.ts';
import type { HealthAlert as DomainHealthAlert } from '../../domains/health.ts';
import type { RecordCheck } from '../../domains/verify.ts';
import type { ApiApp, HttpDeps } from '../deps.ts';
import { principalOf } from '../auth.ts';
import { withFieldNames } from '../errors.ts';
import { decodeCursor, page } from '../pagination.ts';
import { ERRORS, NoContent, NullableTimestamp, Page, PageQuery, Timestamp, iso, isoOrNull } from '../schemas.ts';

const Purpose = Type.Enum(['dkim', 'spf', 'return-path', 'dmarc']);
const RecordType = Type.Enum(['TXT', 'CNAME', 'MX']);

const DnsRecord = Type.Object({
  purpose: Purpose, type: RecordType, name: Type.String(), value: Type.String(), priority: Type.Optional(Type.Integer()),
  warning: Type.Optional(Type.String({ description: 'set when the record cannot work yet (MAILROOM_HOSTNAME is not a fully qualified name), with the fix' })),
});

const CheckedRecord = Type.Object({
  purpose: Type.Enum(['dkim', 'spf', 'return-path', 'dmarc', 'server-host'], { description: 'server-host: the name the SPF and return-path records point at has an address (advisory)' }),
  type: Type.Enum(['TXT', 'CNAME', 'MX', 'A']), name: Type.String(), expected: Type.String(), found: Type.Array(Type.String()), ok: Type.Boolean(),
  error: Type.Optional(Type.String({ description: 'what is wrong and what to do' })),
});

const HealthAlert = Type.Union([Type.Object({
  since: Timestamp,
  records: Type.Array(Type.Object({ purpose: Purpose, type: RecordType, name: Type.String(), error: Type.String({ description: 'what is wrong and what to do' }) })),
}), Type.Null()], { description: 'what the daily re-check found wrong with a verified domain: mail still goes, but receivers may start refusing it; null when all is well' });

const DomainSummary = Type.Object({
  name: Type.String(), verified: Type.Boolean(), verifiedAt: NullableTimestamp, lastCheckedAt: NullableTimestamp, createdAt: Timestamp,
  healthAlert: HealthAlert,
});

const AddedDomain = Type.Object({ domain: Type.Object({ name: Type.String(), verified: Type.Boolean() }), records: Type.Array(DnsRecord) });

const DkimRotation = Type.Object({
  pending: Type.Union([Type.Object({
    selector: Type.String(), record: DnsRecord, startedAt: Timestamp,
  }, { description: 'publish this record beside the current DKIM record; signing switches to the new key once it is found' }), Type.Null()]),
  retired: Type.Array(Type.Object({
    selector: Type.String(), name: Type.String(), retiredAt: Timestamp,
    removableAfter: Timestamp,
  }, { description: 'an earlier key: keep its record published until removableAfter (mail signed with it may still be on its way)' })),
});

const DomainDetail = Type.Object({
  domain: Type.Object({
    name: Type.String(), verified: Type.Boolean(), verifiedAt: NullableTimestamp,
    verifiedBy: Type.Union([Type.Enum(['dns', 'force']), Type.Null()], { description: 'force: marked verified by an operator without DNS' }),
    dkimSelector: Type.String(), returnPathDomain: Type.String(), createdAt: Timestamp, healthAlert: HealthAlert,
  }),
  records: Type.Array(DnsRecord),
  lastCheck: Type.Union([Type.Object({ at: Timestamp, records: Type.Array(CheckedRecord) }), Type.Null()]),
  dkimRotation: DkimRotation,
});

const Verification = Type.Object({ domain: Type.String(), verified: Type.Boolean(), records: Type.Array(CheckedRecord) });

const DomainName = Type.Object({ name: Type.String({ maxLength: 253 }) });

/** The domain modules name the field `domain`; in these requests it is `name`. */
const FIELDS = { domain: 'name' };

export function domainRoutes(app: ApiApp, deps: HttpDeps): void {
  const { store, config, resolver } = deps;

  app.get('/domains', {
    schema: { tags: ['domains'], summary: "The account's sending domains", querystring: Type.Object(PageQuery), response: { 200: Page(DomainSummary), ...ERRORS } },
  }, async (request) => {
    const limit = request.query.limit ?? 50;
    const after = decodeCursor(request.query.cursor);
    // An account has a handful of domains: filtering them here is simpler than another query.
    const domains = (await listDomains(store, principalOf(request).accountId)).filter((d) => after === undefined || d.name > after);
    return page(domains.slice(0, limit + 1), limit, (d) => d.name, (d) => ({
      name: d.name, verified: d.verified, verifiedAt: isoOrNull(d.verifiedAt), lastCheckedAt: isoOrNull(d.lastCheckedAt), createdAt: iso(d.createdAt),
      healthAlert: alertView(d.healthAlert),
    }));
  });

  app.post('/domains', {
    schema: {
      tags: ['domains'], summary: 'Add a sending domain: answers the DNS records to publish',
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 253 }) }, { additionalProperties: false }),
      response: { 201: AddedDomain, ...ERRORS },
    },
  }, async (request, reply) => {
    const added = await withFieldNames(FIELDS, () => addDomain(store, principalOf(request).accountId, request.body.name, config.hostname));
    return reply.code(201).send({ domain: { name: added.domain.name, verified: added.domain.verified }, records: added.records.map(recordView) });
  });

  app.get('/domains/:name', {
    schema: { tags: ['domains'], summary: 'A sending domain with its DNS records and the last check', params: DomainName, response: { 200: DomainDetail, ...ERRORS } },
  }, async (request) => {
    const row = await withFieldNames(FIELDS, () => getDomainRow(store, request.params.name, principalOf(request).accountId));
    const domain = toDomain(row);
    return {
      domain: {
        name: domain.name, verified: domain.verified, verifiedAt: isoOrNull(domain.verifiedAt), verifiedBy: domain.verifiedBy as 'dns' | 'force' | null,
        dkimSelector: domain.dkimSelector, returnPathDomain: domain.returnPathDomain, createdAt: iso(domain.createdAt),
        healthAlert: alertView(domain.healthAlert),
      },
      records: domainRecords(row, config.hostname).map(recordView),
      lastCheck: domain.lastCheck && domain.lastCheckedAt !== null ? { at: iso(domain.lastCheckedAt), records: domain.lastCheck.map(checkView) } : null,
      dkimRotation: rotationView(await dkimRotationView(store, row)),
    };
  });

  app.post('/domains/:name/dkim-rotation', {
    schema: {
      tags: ['domains'], summary: 'Start a DKIM key rotation: a new key whose record to publish; signing switches once DNS has it',
      params: DomainName, response: { 201: DkimRotation, ...ERRORS },
    },
  }, async (request, reply) => {
    const row = await withFieldNames(FIELDS, () => getDomainRow(store, request.params.name, principalOf(request).accountId));
    const view = await withFieldNames(FIELDS, () => startDkimRotation(store, row));
    return reply.code(201).send(rotationView(view));
  });

  app.delete('/domains/:name', {
    schema: { tags: ['domains'], summary: 'Remove a sending domain: mail from it is refused from now on', params: DomainName, response: { 204: NoContent, ...ERRORS } },
  }, async (request, reply) => {
    const row = await withFieldNames(FIELDS, () => getDomainRow(store, request.params.name, principalOf(request).accountId));
    await deleteDomain(store, row);
    return reply.code(204).send(null);
  });

  app.post('/domains/:name/verify', {
    schema: {
      tags: ['domains'], summary: "Look the domain's DNS records up; the domain may send once DKIM, SPF and the return path check out",
      params: DomainName, response: { 200: Verification, ...ERRORS },
    },
  }, async (request) => {
    const row = await withFieldNames(FIELDS, () => getDomainRow(store, request.params.name, principalOf(request).accountId));
    const result = await verifyDomain(store, row, resolver, config.hostname);
    return { domain: result.domain.name, verified: result.verified, records: result.records.map(checkView) };
  });
}

function recordView(record: DnsRecordToPublish) {
  return {
    purpose: record.purpose, type: record.type, name: record.name, value: record.value,
    ...(record.priority !== undefined ? { priority: record.priority } : {}), ...(record.warning ? { warning: record.warning } : {}),
  };
}

function checkView(check: RecordCheck) {
  return {
    purpose: check.purpose, type: check.type, name: check.name, expected: check.expected, found: check.found, ok: check.ok,
    ...(check.error ? { error: check.error } : {}),
  };
}

function alertView(alert: DomainHealthAlert | null) {
  if (!alert) return null;
  return {
    since: iso(alert.since),
    records: alert.records.map((r) => ({ purpose: r.purpose as RecordPurpose, type: r.type as DnsRecordToPublish['type'], name: r.name, error: r.error })),
  };
}

function rotationView(view: DkimRotationView) {
  return {
    pending: view.pending ? { selector: view.pending.selector, record: recordView(view.pending.record), startedAt: iso(view.pending.startedAt) } : null,
    retired: view.retired.map((k) => ({ selector: k.selector, name: k.name, retiredAt: iso(k.retiredAt), removableAfter: iso(k.removableAfter) })),
  };
}
