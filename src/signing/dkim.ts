/**
 * DKIM signing (RFC 6376) of outbound mail: rsa-sha256, relaxed/relaxed, with mailauth — the
 * only file that knows the DKIM library, so replacing it touches this folder alone.
 *
 * Relaxed canonicalisation survives the harmless rewrites relays do (header refolding,
 * trailing whitespace); simple/simple breaks on them. The header list is ours rather than
 * mailauth's default so that what we vouch for is written down here: the headers a reader
 * sees and trusts, the ones that thread a conversation, the MIME headers that decide how the
 * body is shown, and the List-Unsubscribe pair that Gmail and Yahoo require to be signed for
 * one-click unsubscribe (RFC 8058). mailauth signs those of them the message actually has.
 * (It cannot over-sign — name a header once more than present to forbid adding another —
 * so a second From added downstream is left to DMARC receivers, which reject such mail.)
 */
import { dkimSign } from 'mailauth';

export interface DkimKey {
  domain: string;
  selector: string;
  privateKeyPem: string;
}

const SIGNED_HEADERS = [
  'From', 'Sender', 'Reply-To', 'To', 'Cc', 'Subject', 'Date', 'Message-ID',
  'In-Reply-To', 'References',
  'MIME-Version', 'Content-Type', 'Content-Transfer-Encoding', 'Content-ID', 'Content-Description',
  'List-Id', 'List-Unsubscribe', 'List-Unsubscribe-Post', 'Feedback-ID',
  'Resent-Date', 'Resent-From', 'Resent-Sender', 'Resent-To', 'Resent-Cc', 'Resent-Message-ID',
];

/** Returns the message with a DKIM-Signature header prepended. Throws when no signature could be made. */
export async function signMessage(raw: Buffer, key: DkimKey): Promise<Buffer> {
  const signature = { signingDomain: key.domain, selector: key.selector, privateKey: key.privateKeyPem };
  // The signer reads the keys from signatureData only; the typings also demand them at the
  // top level, where they are ignored (the test checks exactly one signature comes out).
  const result = await dkimSign(raw, {
    ...signature,
    signatureData: [signature],
    algorithm: 'rsa-sha256',
    canonicalization: 'relaxed/relaxed',
    headerList: SIGNED_HEADERS,
  });
  if (result.errors.length || !result.signatures) {
    const reason = result.errors.map((e) => e.err.message).join('; ') || 'no signature produced';
    throw new Error(`DKIM signing for ${key.selector}._domainkey.${key.domain} failed: ${reason}`);
  }
  return Buffer.concat([Buffer.from(result.signatures), raw]);
}
