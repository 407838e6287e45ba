/** Installation-wide secrets kept in the store, so every node shares them. */
import { randomBytes } from 'node:crypto';
import type { Store } from './database.ts';

/** Returns the stored value, creating it on first use; concurrent first uses agree on one value. */
export async function sharedSecret(store: Store, key: string): Promise<string> {
  await store.db.insertInto('settings').values({ key, value: randomBytes(32).toString('hex') })
    .onConflict((oc) => oc.column('key').doNothing()).execute();
  const row = await store.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirstOrThrow();
  return row.value;
}
