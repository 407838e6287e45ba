/**
 * The bytes and envelope sender of one message, as its first attempt made
 * them: DKIM-signed with the From domain's key (the signature is kept, so
 * every retry sends identical bytes) and a VERP return path on the account's
 * bounce domain, so a bounce names the delivery it is about.
 */
import type { Store } from '../store/database.ts';
import { domainOf } from '../message/address.ts';
import { signMessage } from '../signing/dkim.ts';
import type { Signer } from '../signing/signing-pool.ts';
import { encodeReturnPath } from '../message/verp.ts';
import type { FreshMessage, FreshMessages } from './fresh-messages.ts';
import { SigningDomains } from './signing-domains.ts';

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

export interface PrepareSources {
  store: Store;
  sign?: Signer;
  /** Messages this node just accepted, used once instead of reading them back. */
  fresh?: FreshMessages;
  /** Cached domain rows; without it the store is asked every time. */
  domains?: SigningDomains;
}

export async function prepareMessage(sources: PrepareSources, messageId: string): Promise<PreparedMessage | null> {
  const { store, sign = signMessage } = sources;
  const fresh = sources.fresh?.take(messageId);
  // A fresh message has not been signed yet: this is its first attempt.
  const message = fresh ? { ...fresh, dkimSignature: null } : await readMessage(store, messageId);
  if (!message) return null;
  const senderDomain = message.mailFrom ? domainOf(message.mailFrom) : null;
  const fromDomain = message.headerFrom ? domainOf(message.headerFrom) : null;
  const domains = await (sources.domains ?? new SigningDomains(store)).find([senderDomain, fromDomain]);
  const base = {
    id: message.id, accountId: message.accountId, mailFrom: message.mailFrom, createdAt: message.createdAt,
    returnPathDomain: domains.find((d) => d.name === senderDomain)?.return_path_domain ?? null,
  };
  const { raw } = message;
  if (message.dkimSignature !== null) {
    return { ...base, raw: Buffer.concat([Buffer.from(message.dkimSignature), raw]), newSignature: null };
  }
  const signingDomain = domains.find((d) => d.name === fromDomain);
  if (!signingDomain || message.source === 'dsn') return { ...base, raw, newSignature: null };
  const signed = await sign(raw, { domain: signingDomain.name, selector: signingDomain.dkim_selector, privateKeyPem: signingDomain.dkim_private_key });
  return { ...base, raw: signed, newSignature: signed.subarray(0, signed.length - raw.length).toString() };
}

async function readMessage(store: Store, messageId: string): Promise<(FreshMessage & { dkimSignature: string | null }) | null> {
  const row = await store.db.selectFrom('messages')
    .select(['id', 'account_id', 'mail_from', 'header_from', 'raw', 'dkim_signature', 'source', 'created_at'])
    .where('id', '=', messageId).executeTakeFirst();
  if (!row) return null;
  return {
    id: row.id, accountId: row.account_id, mailFrom: row.mail_from, headerFrom: row.header_from,
    raw: Buffer.from(row.raw.buffer, row.raw.byteOffset, row.raw.byteLength),
    source: row.source as FreshMessage['source'], createdAt: row.created_at, dkimSignature: row.dkim_signature,
  };
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
