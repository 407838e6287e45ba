/**
 * Verified domains stay healthy: every verified domain's records are looked up again about once a
 * day, and a record that disappeared or changed raises a health alert on the domain — shown in
 * the API and as a banner in the dashboard, and logged — while mail still flows, so the owner can
 * fix DNS before receivers start refusing the mail. The alert clears once the records check out.
 *
 * Why the domain is not unverified on the spot: a record deleted by mistake should cost a warning,
 * not a day of refused mail; a domain that is really gone fails at its receivers, and the explanations
 * of those bounces say so.
 *
 * Spreading and sharing the work: each domain's day is offset by a fixed jitter drawn from its id,
 * so domains added together are not all checked at one instant, and a node takes a domain by moving
 * its `last_checked_at` forward only if no other node did first — every node may run the schedule,
 * and each domain is checked by one of them at a time. Domains verified by force (private DNS we
 * cannot see) are not checked.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Store } from '../store/database.ts';
import type { DomainsTable } from '../store/schema.ts';
import type { DnsResolver } from '../dns/resolver.ts';
import { domainRecords } from './domains.ts';
import { checkDomainRecords, type RecordCheck } from './verify.ts';
import { healthAlertOf, type HealthAlert } from './health.ts';
import { completeDkimRotation } from './dkim-rotation.ts';
import { recordEvents } from '../queue/message-events.ts';
import { startPeriodicPass } from './periodic-pass.ts';

export interface RecheckOptions {
  store: Store;
  resolver: DnsResolver;
  /** MAILROOM_HOSTNAME: the SPF and return-path records name it. */
  serverHostname: string;
  logger?: Logger;
  /** Between two checks of one domain: a day. */
  intervalMs?: number;
  /** Each domain's fixed offset within this window, drawn from its id. */
  jitterMs?: number;
  now?: () => number;
}

export interface RecheckResult {
  domain: string;
  alert: HealthAlert | null;
  /** True when the alert appeared, changed or cleared with this check. */
  changed: boolean;
}

const DAY = 24 * 3600_000;
const MAX_PER_PASS = 200;

/** One pass: checks every verified domain that is due and that no other node took first. */
export async function recheckDueDomains(opts: RecheckOptions): Promise<RecheckResult[]> {
  const now = (opts.now ?? Date.now)();
  const interval = opts.intervalMs ?? DAY;
  const jitter = opts.jitterMs ?? 2 * 3600_000;
  const rows = await opts.store.db.selectFrom('domains').selectAll()
    .where('verified_at', 'is not', null).where('verified_by', '=', 'dns')
    .where((eb) => eb.or([eb('last_checked_at', 'is', null), eb('last_checked_at', '<=', now - interval)]))
    .orderBy('last_checked_at').limit(MAX_PER_PASS).execute();
  await completePendingRotations(opts);
  const results: RecheckResult[] = [];
  for (const row of rows) {
    if (row.last_checked_at !== null && Number(row.last_checked_at) + interval + offsetOf(row.id, jitter) > now) continue;
    if (!(await claim(opts.store, row, now))) continue;
    results.push(await recheck(opts, row, now));
  }
  return results;
}

/** Runs recheckDueDomains now and then every `tickMs`; errors are logged, never thrown. */
export function startDomainRechecks(opts: RecheckOptions & { tickMs?: number }): { stop(): Promise<void> } {
  return startPeriodicPass(() => recheckDueDomains(opts), opts.tickMs ?? 10 * 60_000, (error) => {
    opts.logger?.warn({ err: error, event: 'domains.recheck_failed' }, 'could not re-check domains');
  });
}

async function recheck(opts: RecheckOptions, row: DomainsTable, now: number): Promise<RecheckResult> {
  const checks = await checkDomainRecords(domainRecords(row, opts.serverHostname), opts.resolver);
  const previous = row.health_alert ? (JSON.parse(row.health_alert) as HealthAlert) : null;
  const before = row.last_check ? (JSON.parse(row.last_check) as RecordCheck[]) : null;
  const alert = healthAlertOf(previous, before, checks, now);
  const changed = JSON.stringify(alert?.records ?? null) !== JSON.stringify(previous?.records ?? null);
  await opts.store.db.transaction().execute(async (tx) => {
    await tx.updateTable('domains')
      .set({ last_check: JSON.stringify(checks), health_alert: alert ? JSON.stringify(alert) : null })
      .where('id', '=', row.id).execute();
    // The owner hears of it (webhooks) in the same transaction that records it: never one without the other.
    if (changed) {
      const reply = alert
        ? `DNS records of ${row.name} disappeared or changed: ${alert.records.map((r) => `${r.name} (${r.error})`).join('; ')}`
        : `DNS records of ${row.name} check out again`;
      await recordEvents(tx, [{
        accountId: row.account_id, messageId: '', deliveryId: null, recipient: null, at: now, reply,
        type: alert ? 'domain_records_changed' : 'domain_records_restored', details: { domain: row.name, ...(alert ? { records: alert.records } : {}) },
      }]);
    }
  });
  if (changed && alert) {
    opts.logger?.warn({ event: 'domain.records_changed', domain: row.name, accountId: row.account_id, records: alert.records },
      `DNS records of ${row.name} disappeared or changed: ${alert.records.map((r) => r.name).join(', ')}`);
  } else if (changed) {
    opts.logger?.info({ event: 'domain.records_restored', domain: row.name, accountId: row.account_id }, `DNS records of ${row.name} check out again`);
  }
  return { domain: row.name, alert, changed };
}

/**
 * New DKIM keys waiting for their record are looked for at every pass, not daily: the user
 * published the record and expects signing to move on soon, without having to press Verify.
 */
async function completePendingRotations(opts: RecheckOptions): Promise<void> {
  const rows = await opts.store.db.selectFrom('domains').selectAll('domains')
    .where('verified_at', 'is not', null)
    .where(({ exists, selectFrom }) => exists(selectFrom('dkim_keys').select('dkim_keys.id').whereRef('dkim_keys.domain_id', '=', 'domains.id').where('dkim_keys.state', '=', 'pending')))
    .limit(MAX_PER_PASS).execute();
  for (const row of rows) {
    if (await completeDkimRotation(opts.store, row, opts.resolver, (opts.now ?? Date.now)())) {
      opts.logger?.info({ event: 'domain.dkim_rotated', domain: row.name }, `${row.name} now signs with its new DKIM key`);
    }
  }
}

/** Takes the domain for this check unless another node already did (its last_checked_at moved). */
async function claim(store: Store, row: DomainsTable, now: number): Promise<boolean> {
  let update = store.db.updateTable('domains').set({ last_checked_at: now }).where('id', '=', row.id);
  update = row.last_checked_at === null ? update.where('last_checked_at', 'is', null) : update.where('last_checked_at', '=', row.last_checked_at);
  const result = await update.executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** A fixed offset in [0, window) for the domain, so its checks fall at its own time of day. */
export function offsetOf(id: string, window: number): number {
  if (window <= 0) return 0;
  return createHash('sha256').update(id).digest().readUInt32BE(0) % window;
}
