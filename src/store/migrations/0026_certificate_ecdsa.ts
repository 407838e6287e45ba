/**
 * The ECDSA P-256 certificate ordered from ACME beside the RSA one, for the
 * same host name and renewed with it: clients that can verify ECDSA get it
 * (a far cheaper handshake), the others the RSA one. Null until ordered, and
 * when the CA would not issue one.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export function certificateEcdsa(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('certificates').addColumn('ecdsa_cert_pem', 'text').execute();
      await db.schema.alterTable('certificates').addColumn('ecdsa_key_pem', 'text').execute();
    },
  };
}
