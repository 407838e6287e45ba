// How times, numbers and statuses read on screen, in one place.

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateTimeSeconds = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const number = new Intl.NumberFormat();

/** @param {number | string | null | undefined} value */
export function toDate(value) {
  if (value === null || value === undefined || value === '') return null;
  const date = new Date(typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** @param {number | string | null | undefined} value */
export function formatDateTime(value, { seconds = false } = {}) {
  const date = toDate(value);
  if (!date) return '—';
  return (seconds ? dateTimeSeconds : dateTime).format(date);
}

/** "3 minutes ago", "in 5 hours". @param {number | string | null | undefined} value */
export function formatRelative(value, now = Date.now()) {
  const date = toDate(value);
  if (!date) return 'never';
  const seconds = Math.round((date.getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return seconds <= 0 ? 'just now' : 'in a few seconds';
  if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return relative.format(Math.round(seconds / 3600), 'hour');
  return relative.format(Math.round(seconds / 86400), 'day');
}

/** @param {number | null | undefined} value */
export function formatNumber(value) {
  return value === null || value === undefined ? '—' : number.format(value);
}

/** @param {number | null | undefined} ms */
export function formatDuration(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** Delivery status words, as the API spells them, with what they mean to a person. */
export const STATUS_TEXT = {
  queued: { label: 'Queued', tone: 'info', help: 'Accepted and waiting for its first delivery attempt.' },
  deferred: { label: 'Deferred', tone: 'warn', help: 'The receiving server asked us to try again later; Mailroom retries automatically.' },
  delivered: { label: 'Delivered', tone: 'ok', help: 'The receiving server accepted the message.' },
  bounced: { label: 'Bounced', tone: 'bad', help: 'The receiving server refused the message for good.' },
  complained: { label: 'Complained', tone: 'bad', help: 'The recipient marked the message as spam.' },
  suppressed: { label: 'Suppressed', tone: 'muted', help: 'Not sent: the address is on your suppression list.' },
  expired: { label: 'Expired', tone: 'bad', help: 'Delivery kept failing until the queue time ran out.' },
};

/** @param {string} status */
export function statusInfo(status) {
  return /** @type {Record<string, {label: string, tone: string, help: string}>} */ (STATUS_TEXT)[status]
    ?? { label: status ? status[0].toUpperCase() + status.slice(1) : 'Unknown', tone: 'muted', help: '' };
}
