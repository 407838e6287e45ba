/**
 * The DKIM signature of a sandboxed message, made when it is accepted: it
 * will never have a first delivery attempt (where real mail is signed), yet
 * it must be signed like real mail, so that a sandbox run shows whether
 * signing works. Signed on the accepting thread: sandbox traffic is test
 * traffic, and the signing threads run only on delivery nodes.
 */
import type { Store } from '../store/database.ts';
import { domainOf } from '../message/address.ts';
import { signMessage } from './dkim.ts';

/** The DKIM-Signature header for `raw` with the key of its From domain; null when that domain has none. */
export async function signatureAtAcceptance(store: Store, headerFrom: string, raw: Buffer): Promise<string | null> {
  if (!headerFrom) return null;
  const domain = await store.db.selectFrom('domains').select(['name', 'dkim_selector', 'dkim_private_key'])
    .where('name', '=', domainOf(headerFrom)).executeTakeFirst();
  if (!domain) return null;
  const signed = await signMessage(raw, { domain: domain.name, selector: domain.dkim_selector, privateKeyPem: domain.dkim_private_key });
  return signed.subarray(0, signed.length - raw.length).toString();
}
