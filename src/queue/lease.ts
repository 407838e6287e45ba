/** Keeping and giving back the leases a worker holds (each in the caller's transaction: the queue writer's). */
import type { Kysely } from 'kysely';
import type { Engine } from '../store/database.ts';
import type { Database } from '../store/schema.ts';
import { MAIL_OUTBOX } from './claim-deliveries.ts';

export interface LeaseExtension {
  owner: string;
  ids: readonly string[];
  until: number;
}

export interface LeaseRelease {
  owner: string;
  /** The deliveries to give back; null gives back every lease held under this owner id (a restarted node's leftovers). */
  ids: readonly string[] | null;
  now: number;
}

/** Pushes the lease end of deliveries this owner still holds (without waiting for rows being recorded). */
export function extendLeases(tx: Kysely<Database>, engine: Engine, { owner, ids, until }: LeaseExtension): Promise<void> {
  return MAIL_OUTBOX.extend(tx, engine, owner, ids, until);
}

/** Gives deliveries back at once (graceful stop, restart), so no one need wait for the lease to run out. */
export async function releaseLeases(tx: Kysely<Database>, { owner, ids, now }: LeaseRelease): Promise<void> {
  await MAIL_OUTBOX.release(tx, { owner, ids, dueAt: now });
}
