/**
 * Tracking on a send: what the message asks for (`track: {opens, clicks}`)
 * within what its From domain allows, the domain's settings when it asks
 * nothing. Asking for what the domain has not enabled is a 400 naming the
 * field. Only the HTML body is tracked (a pixel, rewritten <a href> links);
 * raw MIME is never rewritten.
 */
import type { Config } from '../config/options.ts';
import type { Store } from '../store/database.ts';
import { domainOf } from '../message/address.ts';
import { trackingSettings } from '../domains/tracking-settings.ts';
import { trackHtml, trackingSecret } from '../events/tracking-links.ts';
import { parseAddresses, parseSender, type MessageInput } from './compose-message.ts';
import { ApiError } from './errors.ts';
import { publicBaseUrl } from './unsubscribe-input.ts';

export interface TrackRequest {
  track?: { opens?: boolean; clicks?: boolean };
}

export async function withTracking(store: Store, config: Config, input: MessageInput & TrackRequest, ids: { messageId: string; accountId: string }): Promise<MessageInput> {
  const { track, ...rest } = input;
  if (rest.raw !== undefined) {
    if (track !== undefined) throw new ApiError(400, 'track_with_raw', 'track cannot be combined with raw: Mailroom does not rewrite raw MIME', 'track');
    return rest;
  }
  if (rest.from === undefined) return rest;
  const domainName = domainOf(parseSender(rest.from, 'from').address);
  const domain = await store.db.selectFrom('domains').select('id').where('name', '=', domainName).where('account_id', '=', ids.accountId).executeTakeFirst();
  // An unknown domain is refused later, by the sender policy, with its own words.
  if (!domain) return rest;
  const allowed = await trackingSettings(store, domain.id);
  for (const kind of ['opens', 'clicks'] as const) {
    if (track?.[kind] === true && !allowed[kind]) {
      throw new ApiError(400, 'tracking_not_enabled', `${kind} tracking is not enabled for ${domainName}; turn it on with PUT /api/v1/domains/${domainName}/tracking`, `track.${kind}`);
    }
  }
  const opens = track?.opens ?? allowed.opens;
  const clicks = track?.clicks ?? allowed.clicks;
  if ((!opens && !clicks) || rest.html === undefined) return rest;
  const recipients = new Set([...parseAddresses(rest.to, 'to'), ...parseAddresses(rest.cc, 'cc'), ...parseAddresses(rest.bcc, 'bcc')].map((a) => a.address.toLowerCase()));
  const html = trackHtml(rest.html, await trackingSecret(store), {
    base: publicBaseUrl(config), messageId: ids.messageId, recipient: recipients.size === 1 ? [...recipients][0] : null, opens, clicks,
  });
  return { ...rest, html };
}
