/**
 * The shared shaping state in the store (table site_shaping): read by every node each second,
 * changed by whichever node sees a reason to. Decreases read and write in one transaction
 * (the row locked on PostgreSQL), so two nodes throttled at once decrease once (the cooldown)
 * and no decrease is lost; increases are conditional on the change they saw, so only one
 * node's increase counts per step.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Engine } from '../store/database.ts';
import type { Database, SiteShapingTable } from '../store/schema.ts';
import { heartbeatAlive } from '../store/node-heartbeat.ts';
import { decrease, freshShaping, increase, suspend, type DecreaseFacts, type ShapingChange, type SiteShaping } from './shaping.ts';

export interface SiteStats {
  delivered: number;
  deferred: number;
  bounced: number;
  /** Replies that asked for less (throttling and block signals). */
  throttled: number;
  /** Deliveries held back by shaping, before or after sending: not attempts. */
  held: number;
}

export interface SiteRecord extends SiteShaping, SiteStats {
  domains: string[];
  updatedAt: number;
}

export const NO_STATS: SiteStats = { delivered: 0, deferred: 0, bounced: 0, throttled: 0, held: 0 };

/** How many recipient domains a site keeps as a sample. */
const DOMAIN_SAMPLE = 20;

export async function readSites(db: Kysely<Database>, site?: string, page?: { after?: string; limit: number }): Promise<SiteRecord[]> {
  let query = db.selectFrom('site_shaping').selectAll().orderBy('site');
  if (site !== undefined) query = query.where('site', '=', site);
  if (page?.after !== undefined) query = query.where('site', '>', page.after);
  if (page) query = query.limit(page.limit);
  return (await query.execute()).map(fromRow);
}

/** Live nodes with the delivery role: each applies 1/n of a site's limits. */
export async function deliveryNodeCount(db: Kysely<Database>, now: number): Promise<number> {
  const nodes = await db.selectFrom('nodes').select(['roles', 'heartbeat_at', 'heartbeat_ms']).execute();
  const live = nodes.filter((n) => n.roles.split(',').includes('delivery') && heartbeatAlive(n, now));
  return Math.max(1, live.length);
}

export interface SignalChange extends DecreaseFacts {
  site: string;
  signal: 'throttle' | 'suspend';
  suspendMs: number;
}

/** Applies a throttling or block signal; returns the site's state afterwards (unchanged within the cooldown). */
export async function applySignal(tx: Kysely<Database>, engine: Engine, change: SignalChange): Promise<SiteRecord> {
  const current = await lockedRow(tx, engine, change.site, change.now);
  const next = change.signal === 'suspend' ? suspend(current, { ...change, forMs: change.suspendMs }) : decrease(current, change);
  if (!next) return current;
  await tx.updateTable('site_shaping').set({ ...shapingColumns(next), updated_at: change.now }).where('site', '=', change.site).execute();
  return { ...current, ...next };
}

/** One step up, unless another node changed the site since `seenChangedAt`. Returns whether it applied. */
export async function applyIncrease(tx: Kysely<Database>, change: { site: string; seenChangedAt: number; now: number; defaultConcurrency: number }): Promise<boolean> {
  const row = await tx.selectFrom('site_shaping').selectAll().where('site', '=', change.site).executeTakeFirst();
  if (!row || Number(row.changed_at) !== change.seenChangedAt) return false;
  const next = increase(fromRow(row), change);
  if (!next) return false;
  const updated = await tx.updateTable('site_shaping').set({ ...shapingColumns(next), updated_at: change.now })
    .where('site', '=', change.site).where('changed_at', '=', change.seenChangedAt).executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0;
}

export interface StatsDelta extends SiteStats {
  site: string;
  domains: string[];
}

/** Adds what this node saw since its last report to each site's totals. */
export async function addSiteStats(tx: Kysely<Database>, engine: Engine, { now, sites }: { now: number; sites: readonly StatsDelta[] }): Promise<void> {
  for (const delta of sites) {
    const row = await lockedRow(tx, engine, delta.site, now);
    const domains = [...new Set([...delta.domains, ...row.domains])].slice(0, DOMAIN_SAMPLE);
    await tx.updateTable('site_shaping').set((eb) => ({
      delivered: eb('delivered', '+', delta.delivered),
      deferred: eb('deferred', '+', delta.deferred),
      bounced: eb('bounced', '+', delta.bounced),
      throttled: eb('throttled', '+', delta.throttled),
      held: eb('held', '+', delta.held),
      domains: JSON.stringify(domains),
      updated_at: now,
    })).where('site', '=', delta.site).execute();
  }
}

export interface Pin {
  concurrency: number | null;
  rate: number | null;
}

/** An operator's limits for a site (null values lift that pin); the site need not have been seen yet. */
export async function pinSite(db: Kysely<Database>, engine: Engine, site: string, pin: Pin, now: number): Promise<SiteRecord> {
  return db.transaction().execute(async (tx) => {
    const current = await lockedRow(tx, engine, site, now);
    const change: ShapingChange = 'pinned';
    await tx.updateTable('site_shaping').set({
      pinned_concurrency: pin.concurrency, pinned_rate: pin.rate, last_change: change, changed_at: now, updated_at: now,
    }).where('site', '=', site).execute();
    return { ...current, pinnedConcurrency: pin.concurrency, pinnedRate: pin.rate, lastChange: change, changedAt: now, updatedAt: now };
  });
}

/** Ends a suspension now (an operator who knows the block is lifted). */
export async function resumeSite(db: Kysely<Database>, site: string, now: number): Promise<boolean> {
  const updated = await db.updateTable('site_shaping').set({ suspended_until: null, changed_at: now, updated_at: now })
    .where('site', '=', site).executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0;
}

/** The site's row, created fresh when missing, locked until the transaction ends on PostgreSQL (SQLite's writer serialises). */
async function lockedRow(tx: Kysely<Database>, engine: Engine, site: string, now: number): Promise<SiteRecord> {
  const fresh = freshShaping(site, now);
  await tx.insertInto('site_shaping').values({ ...shapingColumns(fresh), site, ...NO_STATS, domains: '[]', updated_at: now })
    .onConflict((oc) => oc.column('site').doNothing()).execute();
  let query = tx.selectFrom('site_shaping').selectAll().where('site', '=', site);
  if (engine === 'postgres') query = query.forUpdate();
  return fromRow(await query.executeTakeFirstOrThrow());
}

function shapingColumns(s: SiteShaping) {
  return {
    concurrency: s.concurrency, rate: s.rate, grow_step: s.growStep, suspended_until: s.suspendedUntil,
    pinned_concurrency: s.pinnedConcurrency, pinned_rate: s.pinnedRate, last_change: s.lastChange, changed_at: s.changedAt,
    last_decrease_at: s.lastDecreaseAt, reason: s.reason, reason_rule: s.reasonRule,
  };
}

function fromRow(row: Selectable<SiteShapingTable>): SiteRecord {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    site: row.site,
    concurrency: num(row.concurrency), rate: num(row.rate), growStep: Number(row.grow_step), suspendedUntil: num(row.suspended_until),
    pinnedConcurrency: num(row.pinned_concurrency), pinnedRate: num(row.pinned_rate),
    lastChange: row.last_change as ShapingChange | null, changedAt: Number(row.changed_at), lastDecreaseAt: num(row.last_decrease_at),
    reason: row.reason, reasonRule: row.reason_rule,
    delivered: Number(row.delivered), deferred: Number(row.deferred), bounced: Number(row.bounced), throttled: Number(row.throttled), held: Number(row.held),
    domains: JSON.parse(row.domains) as string[], updatedAt: Number(row.updated_at),
  };
}
