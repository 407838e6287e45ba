// Reports: what happened to the account's mail by tag, recipient domain or
// template, per day or over the whole range, with the same numbers as a CSV
// file for a spreadsheet (GET /api/v1/reports, format=csv).
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { query } from '../lib/api.js';
import { useApi } from '../lib/use-api.js';
import { formatNumber } from '../lib/format.js';
import { Card, EmptyState, ErrorNotice, Loading, PageHeader } from '../components/ui.js';

const COLUMNS = ['sent', 'delivered', 'deferred', 'bounced', 'complained', 'opened', 'clicked', 'unsubscribed'];
const DIMENSIONS = [{ id: 'tag', label: 'Tag' }, { id: 'domain', label: 'Recipient domain' }, { id: 'template', label: 'Template' }];
const PERIODS = [{ id: 'all', label: 'Whole range' }, { id: 'day', label: 'Per day' }];
const DAY = 86_400_000;

export function ReportsPage() {
  const [by, setBy] = useState('tag');
  const [period, setPeriod] = useState('all');
  const [days, setDays] = useState('30');
  // Rounded to the minute so re-renders reuse one request.
  const to = Math.ceil(Date.now() / 60_000) * 60_000;
  const params = { by, period, from: new Date(to - Number(days) * DAY).toISOString(), to: new Date(to).toISOString() };
  const report = useApi(`/reports${query(params)}`);
  const rows = report.data?.rows ?? [];
  const dimension = DIMENSIONS.find((d) => d.id === by)?.label ?? by;

  return html`
    <${PageHeader} title="Reports" description="Sent, delivered, bounced, opened… by tag, recipient domain or template." />
    <${Card} title="Report" actions=${html`<a class="btn" data-testid="csv-link" href=${`/api/v1/reports${query({ ...params, format: 'csv' })}`} download>Download CSV</a>`}>
      <div class="inline-form">
        <label>By <select aria-label="Group by" value=${by} onChange=${(/** @type {any} */ e) => setBy(e.currentTarget.value)}>
          ${DIMENSIONS.map((d) => html`<option value=${d.id}>${d.label}</option>`)}
        </select></label>
        <label>Period <select aria-label="Period" value=${period} onChange=${(/** @type {any} */ e) => setPeriod(e.currentTarget.value)}>
          ${PERIODS.map((p) => html`<option value=${p.id}>${p.label}</option>`)}
        </select></label>
        <label>Last <select aria-label="Days" value=${days} onChange=${(/** @type {any} */ e) => setDays(e.currentTarget.value)}>
          ${['1', '7', '30', '90'].map((d) => html`<option value=${d}>${d} days</option>`)}
        </select></label>
      </div>
      <${ErrorNotice} error=${report.error} />
      ${report.loading && !report.data ? html`<${Loading} />`
        : rows.length === 0 ? html`<${EmptyState} title="Nothing sent in this range" />`
        : html`<div class="table-wrap"><table class="table table-compact" aria-label=${`Report by ${dimension.toLowerCase()}`}>
          <thead><tr>${period === 'day' ? html`<th scope="col">Day</th>` : null}<th scope="col">${dimension}</th>${COLUMNS.map((c) => html`<th scope="col" class="num">${c}</th>`)}</tr></thead>
          <tbody>${rows.map((/** @type {any} */ r) => html`<tr key=${`${r.period}-${r.key}`}>
            ${period === 'day' ? html`<td>${r.period.slice(0, 10)}</td>` : null}
            <td class="mono">${r.key}</td>
            ${COLUMNS.map((c) => html`<td class="num">${formatNumber(r[c])}</td>`)}
          </tr>`)}</tbody>
        </table></div>`}
    <//>
  `;
}
