/**
 * The domain rows a delivery needs (DKIM selector and key, return-path
 * domain), kept for a few seconds: every message of a busy sender needs the
 * same one or two rows. Only rows found are kept — a domain added a moment
 * ago is read at once — so the cost is that a domain deleted and added again
 * with a new key signs with the old key for up to TTL_MS.
 */
import type { Store } from '../store/database.ts';

export interface SigningDomain {
  name: string;
  dkim_selector: string;
  dkim_private_key: string;
  return_path_domain: string;
}

const TTL_MS = 5_000;

export class SigningDomains {
  readonly #store: Store;
  #rows = new Map<string, { row: SigningDomain; until: number }>();

  constructor(store: Store) {
    this.#store = store;
  }

  async find(names: ReadonlyArray<string | null>): Promise<SigningDomain[]> {
    const now = Date.now();
    const wanted = [...new Set(names.filter((name): name is string => name !== null))];
    const kept = wanted.flatMap((name) => {
      const entry = this.#rows.get(name);
      return entry && entry.until > now ? [entry.row] : [];
    });
    if (kept.length === wanted.length) return kept;
    const rows = await this.#store.db.selectFrom('domains')
      .select(['name', 'dkim_selector', 'dkim_private_key', 'return_path_domain'])
      .where('name', 'in', wanted)
      .execute();
    if (this.#rows.size > 10_000) this.#rows.clear();
    for (const row of rows) this.#rows.set(row.name, { row, until: now + TTL_MS });
    return rows;
  }
}
