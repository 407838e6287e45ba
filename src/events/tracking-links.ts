/**
 * Open and click tracking, off by default. Tracking tells a sender who read
 * their mail and what they clicked; the recipient never agreed to that, so
 * it is something a domain's owner turns on knowingly, and a message can
 * still turn it off. Opens are also unreliable: Apple Mail Privacy
 * Protection (and some corporate scanners) fetch every image at delivery,
 * so an `opened` event may be a machine, not a person.
 *
 * Every tracked URL carries an HMAC over what it names (the message, the
 * recipient, and for a click the destination), with a secret the nodes
 * share: Mailroom redirects only to destinations it signed itself, so
 * nobody can use it as an open redirect, and nobody can forge events.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Store } from '../store/database.ts';
import { sharedSecret } from '../store/settings.ts';

export interface TrackedTarget {
  messageId: string;
  /** null when the message had several recipients: they all got the same bytes. */
  recipient: string | null;
  /** For a click: where to send the reader. */
  url?: string;
}

const secrets = new WeakMap<Store, Promise<string>>();

export function trackingSecret(store: Store): Promise<string> {
  let secret = secrets.get(store);
  if (!secret) {
    secret = sharedSecret(store, 'tracking_secret');
    secrets.set(store, secret);
  }
  return secret;
}

/** The query string (`d=…&s=…`) of a tracking URL for `target`. */
export function trackingQuery(secret: string, kind: 'open' | 'click', target: TrackedTarget): string {
  const data = Buffer.from(JSON.stringify([target.messageId, target.recipient, target.url ?? null])).toString('base64url');
  return `d=${data}&s=${mac(secret, kind, data)}`;
}

/** What a tracking URL names, or null when it was not made by us (forged, altered, or for the other kind). */
export function readTrackingQuery(secret: string, kind: 'open' | 'click', data: string | undefined, signature: string | undefined): TrackedTarget | null {
  if (!data || !signature) return null;
  const expected = Buffer.from(mac(secret, kind, data));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const [messageId, recipient, url] = JSON.parse(Buffer.from(data, 'base64url').toString('utf8')) as unknown[];
    if (typeof messageId !== 'string' || (recipient !== null && typeof recipient !== 'string') || (url !== null && typeof url !== 'string')) return null;
    return { messageId, recipient: recipient as string | null, ...(url !== null ? { url: url as string } : {}) };
  } catch {
    return null;
  }
}

function mac(secret: string, kind: string, data: string): string {
  return createHmac('sha256', secret).update(`track-${kind}\n${data}`).digest('base64url').slice(0, 32);
}

const HREF = /(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?:\/\/[^"']+)\2/gi;

/**
 * The HTML with every http(s) link of an <a> rewritten through `clickBase`
 * and, for opens, a 1×1 image before </body> (or at the end). Other links
 * (mailto:, anchors) and the unsubscribe link, which is a header, are left alone.
 */
export function trackHtml(html: string, secret: string, options: { base: string; messageId: string; recipient: string | null; opens: boolean; clicks: boolean }): string {
  const { base, messageId, recipient } = options;
  let out = html;
  if (options.clicks) {
    out = out.replace(HREF, (_all, before: string, quote: string, url: string) => {
      const destination = url.replaceAll('&amp;', '&');
      return `${before}${quote}${base}/t/c?${trackingQuery(secret, 'click', { messageId, recipient, url: destination }).replace('&', '&amp;')}${quote}`;
    });
  }
  if (options.opens) {
    const pixel = `<img src="${base}/t/o?${trackingQuery(secret, 'open', { messageId, recipient }).replace('&', '&amp;')}" width="1" height="1" alt="" style="display:none">`;
    const close = out.search(/<\/body>/i);
    out = close === -1 ? out + pixel : out.slice(0, close) + pixel + out.slice(close);
  }
  return out;
}
