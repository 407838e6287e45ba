/**
 * PostgreSQL: message bodies compressed with lz4 instead of the default pglz.
 * A body over about 2 KB is compressed before it is stored (TOAST); pglz costs
 * the backend about twice the CPU of lz4 on a 50 KB text body, and lz4 gives
 * up as cheaply on one that does not compress (base64 attachments). Storing
 * bodies uncompressed (STORAGE EXTERNAL) was measured too: no cheaper, since
 * each body is then ~26 TOAST rows written through the WAL. Only bodies
 * written from now on are affected; older ones stay readable as they are.
 *
 * Skipped where the server cannot do it (before PostgreSQL 14, or built
 * without lz4), and on SQLite, which does not compress.
 */
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { Engine } from '../database.ts';

export function bodyCompression(engine: Engine): Migration {
  return {
    async up(db: Kysely<any>) {
      if (engine !== 'postgres') return;
      const { rows } = await sql<{ lz4: boolean }>`
        select 'lz4' = any(enumvals) as lz4 from pg_settings where name = 'default_toast_compression'`.execute(db);
      if (!rows[0]?.lz4) return;
      await sql`alter table messages alter column raw set compression lz4`.execute(db);
    },
  };
}
