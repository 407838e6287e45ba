// Usage & stats: the rolling daily limit, and accepted / delivered / deferred /
// bounced counts per hour or per day.
import { html } from 'htm/preact';
import { useMemo, useState } from 'preact/hooks';
import { query } from '../lib/api.js';
import { useApi } from '../lib/use-api.js';
import { usageOf } from '../lib/account.js';
import { formatNumber } from '../lib/format.js';
import { Card, ErrorNotice, Loading, PageHeader } from '../components/ui.js';
import { EventsChart, SERIES } from '../components/chart.js';
import { UsageMeter } from '../components/usage-meter.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const RANGES = [
  { id: '24h', label: '24 hours', interval: /** @type {const} */ ('hour'), span: 24 * HOUR },
  { id: '7d', label: '7 days', interval: /** @type {const} */ ('hour'), span: 7 * DAY },
  { id: '30d', label: '30 days', interval: /** @type {const} */ ('day'), span: 30 * DAY },
];

/** The API answers every bucket in the range, zeros included, aligned to UTC hours or days. @param {any} data */
function toBuckets(data) {
  return (data?.buckets ?? []).map((/** @type {any} */ b) => ({
    start: Date.parse(b.start),
    ...Object.fromEntries(SERIES.map((s) => [s.key, Number(b[s.key] ?? 0)])),
  }));
}

export function UsagePage() {
  const account = useApi('/account');
  const [rangeId, setRangeId] = useState('24h');
  const range = RANGES.find((r) => r.id === rangeId) ?? RANGES[0];
  // Rounded to the minute so re-renders reuse one request.
  const to = Math.ceil(Date.now() / 60_000) * 60_000;
  const from = to - range.span;
  const stats = useApi(`/stats${query({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), interval: range.interval })}`);
  const buckets = useMemo(() => toBuckets(stats.data), [stats.data]);
  /** @type {Record<string, number>} */
  const totals = useMemo(() => Object.fromEntries(SERIES.map((s) => [s.key, Number(stats.data?.totals?.[s.key] ?? 0)])), [stats.data]);
  const finished = totals.delivered + totals.bounced;
  const summary = `Last ${range.label}: ${SERIES.map((s) => `${formatNumber(totals[s.key])} ${s.label.toLowerCase()}`).join(', ')}.`;

  return html`
    <${PageHeader} section="Sending" title="Usage & stats" description="How much you are sending, and what happens to it." />
    <${Card} title="Daily sending limit" description="Rolling 24 hours; every recipient counts as one email.">
      ${account.data ? html`<${UsageMeter} usage=${usageOf(account.data)} />` : account.error ? html`<${ErrorNotice} error=${account.error} />` : html`<${Loading} />`}
    <//>
    <${Card} title="Delivery events" actions=${html`<div class="segmented" role="group" aria-label="Time range: the last…">
        ${RANGES.map((r) => html`<button type="button" class=${`segment ${r.id === rangeId ? 'is-active' : ''}`} aria-pressed=${r.id === rangeId} onClick=${() => setRangeId(r.id)}>${r.label}</button>`)}
      </div>`}>
      <div class="stat-tiles">
        ${SERIES.map((s) => html`<div class="stat-tile" data-series=${s.key}>
          <span class="stat-swatch" style=${{ background: s.color }} aria-hidden="true"></span>
          <span class="stat-label">${s.label}</span>
          <span class="stat-value">${stats.data ? formatNumber(totals[s.key]) : '—'}</span>
        </div>`)}
        <div class="stat-tile">
          <span class="stat-label">Delivery rate</span>
          <span class="stat-value">${finished > 0 ? `${Math.round((totals.delivered / finished) * 1000) / 10}%` : '—'}</span>
        </div>
      </div>
      <${ErrorNotice} error=${stats.error} />
      ${stats.loading && !stats.data ? html`<${Loading} />` : stats.data ? html`
        <${EventsChart} buckets=${buckets} interval=${range.interval} label=${summary} totals=${totals} rangeLabel=${`last ${range.label}`} />
        <details class="chart-table">
          <summary>Show the numbers as a table</summary>
          <div class="table-wrap"><table class="table table-compact">
            <thead><tr><th scope="col">${range.interval === 'hour' ? 'Hour' : 'Day'}</th>${SERIES.map((s) => html`<th scope="col" class="num">${s.label}</th>`)}</tr></thead>
            <tbody>${buckets.filter((b) => SERIES.some((s) => /** @type {any} */ (b)[s.key] > 0)).map((b) => html`<tr>
              <td>${new Date(b.start).toLocaleString(undefined, range.interval === 'hour' ? { dateStyle: 'short', timeStyle: 'short' } : { dateStyle: 'medium' })}</td>
              ${SERIES.map((s) => html`<td class="num">${formatNumber(/** @type {any} */ (b)[s.key])}</td>`)}
            </tr>`)}</tbody>
          </table></div>
        </details>` : null}
    <//>
  `;
}
