/**
 * A random id kept in the store itself, so two programs can tell whether they
 * use the same store without comparing connection strings (which differ for
 * the same store: relative paths, host aliases, passwords).
 */
import { resolve } from 'node:path';
import { sharedSecret } from './settings.ts';
import type { Store } from './database.ts';

export async function storeId(store: Store): Promise<string> {
  // Read first: health checks call this often, and a store that has its id needs no write.
  const row = await store.db.selectFrom('settings').select('value').where('key', '=', 'store_id').executeTakeFirst();
  return (row?.value ?? await sharedSecret(store, 'store_id')).slice(0, 16);
}

/** The store's location for a person to read: an absolute SQLite path, or a PostgreSQL URL without its password. */
export function describeStoreLocation(databaseUrl: string): string {
  if (databaseUrl.startsWith('sqlite:')) return `sqlite:${resolve(databaseUrl.slice('sqlite:'.length))}`;
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return databaseUrl.replace(/\/\/[^@/]*@/, '//…@');
  }
}
