// How much of the rolling 24-hour limit is used, and when room frees up.
import { html } from 'htm/preact';
import { formatDateTime, formatNumber, formatRelative } from '../lib/format.js';

/** @param {{ usage: ReturnType<typeof import('../lib/account.js').usageOf> }} props */
export function UsageMeter({ usage }) {
  const percent = Math.round(usage.fraction * 100);
  const tone = usage.fraction >= 1 ? 'bad' : usage.fraction >= 0.8 ? 'warn' : 'ok';
  return html`<div class="meter-block" data-testid="usage-meter">
    <div class="meter-numbers">
      <span class="meter-big">${formatNumber(usage.sent)}</span>
      <span class="muted">of ${formatNumber(usage.limit)} emails in the last 24 hours</span>
    </div>
    <div class=${`meter meter-${tone}`} role="meter" aria-valuemin="0" aria-valuemax=${usage.limit} aria-valuenow=${usage.sent}
      aria-label="Emails sent in the last 24 hours">
      <div class="meter-fill" style=${{ width: `${Math.max(percent, usage.sent > 0 ? 2 : 0)}%` }}></div>
    </div>
    <p class="small muted">${usage.fraction >= 1
      ? html`Limit reached. Sending resumes ${usage.resetsAt ? html`<strong>${formatRelative(usage.resetsAt)}</strong> (${formatDateTime(usage.resetsAt)})` : 'as older emails leave the 24-hour window'}.`
      : usage.resetsAt && usage.sent > 0
        ? html`${formatNumber(Math.max(0, usage.limit - usage.sent))} left. The oldest counted email leaves the window ${formatRelative(usage.resetsAt)}.`
        : html`${formatNumber(Math.max(0, usage.limit - usage.sent))} left.`}</p>
  </div>`;
}
