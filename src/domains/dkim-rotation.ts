/**
 * DKIM key rotation without a gap. A rotation generates a new key under a new selector and shows
 * its TXT record beside the current one; signing goes on with the current key until the new
 * record is found in DNS (at `domains verify` or the daily re-check, recheck.ts), then switches in
 * one transaction. The old key is kept as `retired`: its record must stay published for a grace
 * period, because mail signed with it may still be in a queue (retries send the very bytes first
 * signed) or be verified late, and the dashboard says from when it may be removed.
 *
 * The active key stays in domains.dkim_* — what signing reads — so signing knows nothing of this.
 */
import type { Store } from '../store/database.ts';
import type { DomainsTable, DkimKeysTable } from '../store/schema.ts';
import type { DnsResolver } from '../dns/resolver.ts';
import { newId } from '../store/ids.ts';
import { UserError } from '../errors.ts';
import { dkimRecord, generateDkimKey, type DnsRecordToPublish } from './records.ts';
import { checkDomainRecords } from './verify.ts';
import { recordEvents } from '../queue/message-events.ts';

/**
 * How long a retired key's record must stay published: longer than a message may wait in the
 * queue (MAILROOM_MAX_QUEUE_TIME, 5 days by default) plus a margin for late verification.
 */
export const RETIRED_KEY_GRACE_MS = 7 * 24 * 3600_000;

export interface DkimRotationView {
  /** The next key, waiting for its record: publish `record`, signing switches once it is found. */
  pending: { selector: string; record: DnsRecordToPublish; startedAt: number } | null;
  /** Earlier keys: keep each record published until `removableAfter`. */
  retired: Array<{ selector: string; name: string; retiredAt: number; removableAfter: number }>;
}

/** Starts a rotation: a new key under a new selector, not signing until its record is published. */
export async function startDkimRotation(store: Store, domain: DomainsTable, now = Date.now()): Promise<DkimRotationView> {
  const existing = await keysOf(store, domain.id);
  if (existing.some((k) => k.state === 'pending')) {
    throw new UserError('conflict', 'rotation_in_progress', `a new DKIM key for ${domain.name} is already waiting for its DNS record; publish it and verify`, 'domain');
  }
  const key = await generateDkimKey(new Date(now));
  const taken = new Set([domain.dkim_selector, ...existing.map((k) => k.selector)]);
  // The generated selector names the month; a second rotation within one month gets a suffix.
  let selector = key.selector;
  for (let n = 2; taken.has(selector); n++) selector = `${key.selector}n${n}`;
  await store.db.insertInto('dkim_keys').values({
    id: newId(), domain_id: domain.id, selector, private_key: key.privateKeyPem, public_key: key.publicKeyPem,
    state: 'pending', created_at: now, retired_at: null,
  }).execute();
  return dkimRotationView(store, domain, now);
}

/**
 * Switches signing to the pending key once DNS holds its record; returns whether it did. Called
 * by `domains verify` and the daily re-check, so publishing the record is all the user does.
 */
export async function completeDkimRotation(store: Store, domain: DomainsTable, resolver: DnsResolver, now = Date.now()): Promise<boolean> {
  const pending = (await keysOf(store, domain.id)).find((k) => k.state === 'pending');
  if (!pending) return false;
  const [check] = await checkDomainRecords([dkimRecord(domain.name, pending.selector, pending.public_key)], resolver);
  if (!check.ok) return false;
  return store.db.transaction().execute(async (tx) => {
    // Only if nobody switched meanwhile (another node's re-check, a second click).
    const moved = await tx.updateTable('domains')
      .set({ dkim_selector: pending.selector, dkim_private_key: pending.private_key, dkim_public_key: pending.public_key })
      .where('id', '=', domain.id).where('dkim_selector', '=', domain.dkim_selector).executeTakeFirst();
    if (Number(moved.numUpdatedRows) !== 1) return false;
    await tx.deleteFrom('dkim_keys').where('id', '=', pending.id).execute();
    await tx.insertInto('dkim_keys').values({
      id: newId(), domain_id: domain.id, selector: domain.dkim_selector, private_key: domain.dkim_private_key,
      public_key: domain.dkim_public_key, state: 'retired', created_at: domain.created_at, retired_at: now,
    }).execute();
    const removableAfter = now + RETIRED_KEY_GRACE_MS;
    await recordEvents(tx, [{
      accountId: domain.account_id, messageId: '', deliveryId: null, recipient: null, at: now, type: 'dkim_key_rotated',
      reply: `${domain.name} now signs with the DKIM key ${pending.selector}; keep the record of ${domain.dkim_selector} published until ${new Date(removableAfter).toISOString()}`,
      details: { domain: domain.name, selector: pending.selector, removableAfter },
    }]);
    return true;
  });
}

export async function dkimRotationView(store: Store, domain: DomainsTable, now = Date.now()): Promise<DkimRotationView> {
  const keys = await keysOf(store, domain.id);
  const pending = keys.find((k) => k.state === 'pending');
  // Retired keys long past their grace are forgotten: their records are surely gone by now.
  const retired = keys.filter((k) => k.state === 'retired' && Number(k.retired_at) + 4 * RETIRED_KEY_GRACE_MS > now)
    .sort((a, b) => Number(b.retired_at) - Number(a.retired_at));
  return {
    pending: pending ? { selector: pending.selector, record: dkimRecord(domain.name, pending.selector, pending.public_key), startedAt: Number(pending.created_at) } : null,
    retired: retired.map((k) => ({
      selector: k.selector, name: `${k.selector}._domainkey.${domain.name}`,
      retiredAt: Number(k.retired_at), removableAfter: Number(k.retired_at) + RETIRED_KEY_GRACE_MS,
    })),
  };
}

function keysOf(store: Store, domainId: string): Promise<DkimKeysTable[]> {
  return store.db.selectFrom('dkim_keys').selectAll().where('domain_id', '=', domainId).execute() as Promise<DkimKeysTable[]>;
}
