/**
 * The bytes and envelope sender of one message, as its first attempt made
 * them: DKIM-signed with the From domain's key (the signature is kept, so
 * every retry sends identical bytes) and a VERP return path on the account's
 * bounce domain, so a bounce names the delivery it is about.
 */
import type { Store } from '../store/database.ts';
import { domainOf } from '../accounts/email.ts';
import { signMessage } from '../signing/dkim.ts';
import type { Signer } from '../signing/signing-pool.ts';
import { encodeReturnPath } from './verp.ts';

export interface PreparedMessage {
  id: string;
  accountId: string | null;
  mailFrom: string;
  raw: Buffer;
  /** DKIM-Signature header made by this attempt, to be stored with its outcome; null when already stored or unsigned. */
  newSignature: string | null;
  /** The return-path domain for VERP, or null for the null sender (DSNs). */
  returnPathDomain: string | null;
  createdAt: number;
}

export async function prepareMessage(store: Store, messageId: string, sign: Signer = signMessage): Promise<PreparedMessage | null> {
  const message = await store.db.selectFrom('messages')
    .select(['id', 'account_id', 'mail_from', 'header_from', 'raw', 'dkim_signature', 'source', 'created_at'])
    .where('id', '=', messageId).executeTakeFirst();
  if (!message) return null;
  const raw = Buffer.from(message.raw);
  const senderDomain = message.mail_from ? domainOf(message.mail_from) : null;
  const fromDomain = message.header_from ? domainOf(message.header_from) : null;
  const domains = await store.db.selectFrom('domains')
    .select(['name', 'dkim_selector', 'dkim_private_key', 'return_path_domain'])
    .where('name', 'in', [senderDomain ?? '', fromDomain ?? ''])
    .execute();
  const base = {
    id: message.id, accountId: message.account_id, mailFrom: message.mail_from, createdAt: message.created_at,
    returnPathDomain: domains.find((d) => d.name === senderDomain)?.return_path_domain ?? null,
  };
  if (message.dkim_signature !== null) {
    return { ...base, raw: Buffer.concat([Buffer.from(message.dkim_signature), raw]), newSignature: null };
  }
  const signingDomain = domains.find((d) => d.name === fromDomain);
  if (!signingDomain || message.source === 'dsn') return { ...base, raw, newSignature: null };
  const signed = await sign(raw, { domain: signingDomain.name, selector: signingDomain.dkim_selector, privateKeyPem: signingDomain.dkim_private_key });
  return { ...base, raw: signed, newSignature: signed.subarray(0, signed.length - raw.length).toString() };
}

/**
 * The envelope sender for a group of recipients. One recipient: the address
 * names its delivery. Several in one transaction: it names the message, and
 * the DSN's Final-Recipient tells which of them bounced.
 */
export function envelopeSender(message: PreparedMessage, deliveryIds: readonly string[], verpSecret: string): string {
  if (!message.mailFrom) return '';
  if (!message.returnPathDomain) return message.mailFrom;
  return encodeReturnPath(deliveryIds.length === 1 ? deliveryIds[0] : message.id, message.returnPathDomain, verpSecret);
}
