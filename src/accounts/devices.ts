/**
 * Devices that cannot log in (the device lane): an account's scanner or
 * printer, known by its client address ranges, allowed to send without AUTH
 * only as the senders registered for it and within its own daily limit.
 * No two devices' ranges overlap — above all not across accounts, where an
 * overlap would let one account's machines send as another's — so a client
 * address names at most one device.
 */
import { sql } from 'kysely';
import type { Store } from '../store/database.ts';
import type { DevicesTable } from '../store/schema.ts';
import { newId } from '../store/ids.ts';
import { UserError } from '../errors.ts';
import { ipInRanges, rangesOverlap } from '../policy/key-scope.ts';
import { keyLimit, ranges, senders } from './key-scope-input.ts';

export interface DeviceInput {
  name?: string;
  ipRanges: readonly string[];
  from: readonly string[];
  dailyLimit: number;
}

export interface Device {
  id: string;
  accountId: string;
  name: string;
  ipRanges: string[];
  from: string[];
  dailyLimit: number;
  createdAt: number;
}

const toDevice = (row: DevicesTable): Device => ({
  id: row.id, accountId: row.account_id, name: row.name, ipRanges: JSON.parse(row.ip_ranges) as string[], from: JSON.parse(row.allowed_from) as string[],
  dailyLimit: Number(row.daily_limit), createdAt: Number(row.created_at),
});

export async function registerDevice(store: Store, accountId: string, input: DeviceInput): Promise<Device> {
  const name = (input.name ?? 'device').trim();
  if (name === '' || name.length > 100) throw new UserError('invalid', 'invalid_device_name', 'a device name must have 1 to 100 characters', 'name');
  if (!Array.isArray(input.from) || input.from.length === 0) throw new UserError('invalid', 'invalid_from_scope', 'from: a device needs the addresses (or domains) it may send as', 'from');
  if (!Array.isArray(input.ipRanges) || input.ipRanges.length === 0) throw new UserError('invalid', 'invalid_ip_range', 'ipRanges: a device needs the client address ranges it sends from', 'ipRanges');
  const now = Date.now();
  return store.db.transaction().execute(async (tx) => {
    // Two registrations at once must not both pass the overlap check (SQLite's write lock already serialises them).
    if (store.engine === 'postgres') await sql`lock table devices in share row exclusive mode`.execute(tx);
    const account = await tx.selectFrom('accounts').select('daily_limit').where('id', '=', accountId).executeTakeFirstOrThrow();
    const domains = (await tx.selectFrom('domains').select('name').where('account_id', '=', accountId).execute()).map((d) => d.name);
    const device: Device = {
      id: newId(), accountId, name, ipRanges: ranges(input.ipRanges), from: senders(input.from, domains),
      dailyLimit: keyLimit(input.dailyLimit, account.daily_limit), createdAt: now,
    };
    for (const other of (await tx.selectFrom('devices').selectAll().execute()).map(toDevice)) {
      for (const mine of device.ipRanges) {
        const theirs = other.ipRanges.find((range) => rangesOverlap(mine, range));
        if (theirs === undefined) continue;
        // Another account's device is not named: its ranges are that account's business.
        const whose = other.accountId === accountId ? `your device "${other.name}" (${theirs})` : 'a device of another account';
        throw new UserError('conflict', 'ip_range_overlap', `ipRanges: ${mine} overlaps ${whose}; a client address may belong to one device only`, 'ipRanges');
      }
    }
    await tx.insertInto('devices').values({
      id: device.id, account_id: accountId, name, ip_ranges: JSON.stringify(device.ipRanges), allowed_from: JSON.stringify(device.from),
      daily_limit: device.dailyLimit, created_at: now,
    }).execute();
    return device;
  });
}

export async function listDevices(store: Store, accountId: string): Promise<Device[]> {
  return (await store.db.selectFrom('devices').selectAll().where('account_id', '=', accountId).orderBy('created_at').orderBy('id').execute()).map(toDevice);
}

/** Removes a device; `accountId` limits it to one account's devices (the API), null lets an operator remove any. */
export async function removeDevice(store: Store, deviceId: string, accountId: string | null): Promise<void> {
  let query = store.db.deleteFrom('devices').where('id', '=', deviceId);
  if (accountId) query = query.where('account_id', '=', accountId);
  const result = await query.executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw new UserError('not-found', 'unknown_device', `no device with the id ${deviceId}`, 'id');
}

/** The device whose ranges hold this client address, if any (ranges never overlap, so at most one). */
export async function findDeviceForIp(store: Store, ip: string): Promise<Device | null> {
  // Few rows (one per machine that cannot log in), matched here rather than in SQL: CIDR has no portable SQL form.
  const rows = await store.db.selectFrom('devices').selectAll().execute();
  const row = rows.find((candidate) => ipInRanges(ip, JSON.parse(candidate.ip_ranges) as string[]));
  return row ? toDevice(row) : null;
}
