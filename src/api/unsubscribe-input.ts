/**
 * `unsubscribe: true` on a send: the message gets RFC 8058's one-click
 * headers, with a link that names its one recipient. One recipient only —
 * every recipient of a message gets the same bytes, so a shared link could
 * not say who clicked; a batch send gives each recipient a message (and a
 * link) of their own.
 */
import type { Config } from '../config/options.ts';
import type { Store } from '../store/database.ts';
import { unsubscribeSecret, unsubscribeToken } from '../suppressions/unsubscribe-link.ts';
import { parseAddresses, type MessageInput } from './compose-message.ts';
import { ApiError } from './errors.ts';

export async function withUnsubscribeHeaders(store: Store, config: Config, input: MessageInput & { unsubscribe?: boolean }, ids: { messageId: string; accountId: string }): Promise<MessageInput> {
  const { unsubscribe, ...rest } = input;
  if (!unsubscribe) return rest;
  if (rest.raw !== undefined) throw new ApiError(400, 'unsubscribe_with_raw', 'unsubscribe cannot be combined with raw: add the List-Unsubscribe headers to the MIME message', 'unsubscribe');
  const recipients = new Set([...parseAddresses(rest.to, 'to'), ...parseAddresses(rest.cc, 'cc'), ...parseAddresses(rest.bcc, 'bcc')].map((a) => a.address.toLowerCase()));
  if (recipients.size !== 1) {
    throw new ApiError(400, 'unsubscribe_needs_one_recipient', 'unsubscribe needs exactly one recipient, so the link can say who it unsubscribes; use POST /api/v1/messages/batch for many', 'unsubscribe');
  }
  const given = Object.keys(rest.headers ?? {}).find((name) => /^list-unsubscribe(-post)?$/i.test(name));
  if (given) throw new ApiError(400, 'unsubscribe_header_given', `headers.${given} is set by unsubscribe: true; give one or the other`, `headers.${given}`);
  const token = unsubscribeToken(await unsubscribeSecret(store), { ...ids, address: [...recipients][0] });
  const link = `${publicBaseUrl(config)}/unsubscribe/${token}`;
  return { ...rest, headers: { ...rest.headers, 'List-Unsubscribe': `<${link}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } };
}

/** Where recipients reach this installation's HTTP listener: MAILROOM_PUBLIC_URL, else the hostname and HTTP port. */
export function publicBaseUrl(config: Config): string {
  return (config.publicUrl ?? `http://${config.hostname}:${config.httpPort ?? 8025}`).replace(/\/+$/, '');
}
