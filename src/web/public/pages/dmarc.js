// A domain's DMARC aggregate reports: per sending IP, how much of the mail that receivers saw
// with the domain in From passed SPF or DKIM alignment, with the sources that sent as the domain
// without passing flagged; and the reports they came from.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { enc } from '../lib/api.js';
import { Link } from '../lib/router.js';
import { useApi } from '../lib/use-api.js';
import { formatDateTime, formatNumber, formatRelative } from '../lib/format.js';
import { ArrowLeftIcon } from '../components/icons.js';
import { Badge, Card, CopyField, EmptyState, ErrorNotice, Loading, Notice, PageHeader, Time } from '../components/ui.js';

const PERIODS = [7, 30, 90];

/** @param {{ name: string }} props */
export function DmarcPage({ name }) {
  const [days, setDays] = useState(30);
  const overview = useApi(`/domains/${enc(name)}/dmarc?days=${days}`);
  const reports = useApi(`/domains/${enc(name)}/dmarc/reports?limit=20`);
  const back = html`<${Link} href=${`/app/domains/${enc(name)}`} class="back-link"><${ArrowLeftIcon} />${name}<//>`;
  const data = overview.data;
  /** @type {any[]} */
  const sources = data?.sources ?? [];
  const flagged = sources.filter((s) => s.flagged);
  return html`
    <${PageHeader} title=${`DMARC reports · ${name}`} back=${back}
      description="Mailbox providers (Google, Microsoft, Yahoo…) send a daily report of the mail they saw with your domain in From, per sending server, and whether it passed SPF or DKIM for your domain."
      actions=${html`<label class="inline-field">Period <select aria-label="Period" value=${days} onChange=${(/** @type {any} */ e) => setDays(Number(e.currentTarget.value))}>
        ${PERIODS.map((d) => html`<option value=${d}>last ${d} days</option>`)}</select></label>`} />
    <${ErrorNotice} error=${overview.error} />
    ${overview.loading && !data ? html`<${Loading} />` : data ? html`
      ${flagged.length > 0 ? html`<${Notice} kind="warn" title=${`${flagged.length} source${flagged.length === 1 ? '' : 's'} sent as ${name} without passing`}>
        Mail from these servers claimed to come from ${name} but passed neither SPF nor DKIM for it. Either someone else is using your domain,
        or it is a service of yours (a newsletter tool, a CRM, a ticket system) that is not set up to send for it — then set that service up to
        sign with DKIM for ${name}, or send through Mailroom.<//>` : null}
      <div class="stat-tiles" data-testid="dmarc-totals">
        ${[['Reports', data.reports], ['Messages', data.messages], ['Passed', data.passed], ['Failed', data.failed]].map(([label, value]) => html`
          <div class="stat-tile" key=${label}><span class="stat-label">${label}</span><span class="stat-value">${formatNumber(value)}</span></div>`)}
      </div>
      <${Card} class="card-flush" title="Sending sources">
        ${sources.length === 0 ? html`<${EmptyState} title="No reports yet">
            Reports arrive once a day from each provider that received mail from ${name}, once the DMARC record below is published.<//>`
          : html`<div class="table-wrap"><table class="table dmarc-sources" aria-label="Sending sources">
          <thead><tr>
            <th scope="col">Source IP</th><th scope="col" class="num">Messages</th><th scope="col" class="num">Passed</th><th scope="col" class="num">Failed</th>
            <th scope="col" class="num">SPF aligned</th><th scope="col" class="num">DKIM aligned</th><th scope="col">Reported by</th>
          </tr></thead>
          <tbody>${sources.map((s) => html`<tr key=${s.sourceIp} data-source=${s.sourceIp} data-flagged=${String(s.flagged)}>
            <td><span class="mono">${s.sourceIp}</span>
              ${s.flagged ? html` <${Badge} tone="bad">Not authenticated<//>` : html` <${Badge} tone="ok">Passes<//>`}
              <div class="muted small">From: ${s.headerFrom.join(', ')} · last seen <${Time} value=${s.lastSeen}>${formatRelative(s.lastSeen)}<//></div></td>
            <td class="num" data-label="Messages">${formatNumber(s.messages)}</td>
            <td class="num" data-label="Passed">${formatNumber(s.passed)}</td>
            <td class="num" data-label="Failed">${formatNumber(s.failed)}</td>
            <td class="num" data-label="SPF aligned">${formatNumber(s.spfAligned)}</td>
            <td class="num" data-label="DKIM aligned">${formatNumber(s.dkimAligned)}</td>
            <td data-label="Reported by">${s.reporters.join(', ')}</td>
          </tr>`)}</tbody>
        </table></div>`}
      <//>
      <${Card} title="Where reports go" description="The rua address of the DMARC record on the domain's page: reports mailed there show here.">
        <${CopyField} label="Report address" value=${data.reportAddress} testId="dmarc-address" />
      <//>` : null}
    <${Card} class="card-flush" title="Reports received">
      <${ErrorNotice} error=${reports.error} />
      ${reports.loading && !reports.data ? html`<${Loading} />`
        : (reports.data?.items ?? []).length === 0 ? html`<${EmptyState} title="None yet">No report has arrived for ${name}.<//>`
        : html`<div class="table-wrap"><table class="table dmarc-reports" aria-label="Reports received">
          <thead><tr><th scope="col">From</th><th scope="col">Period</th><th scope="col">Policy</th><th scope="col" class="num">Messages</th><th scope="col">Received</th></tr></thead>
          <tbody>${reports.data.items.map((/** @type {any} */ r) => html`<tr key=${r.id} data-report=${r.reportId}>
            <td>${r.orgName}<div class="muted small mono">${r.reportId}</div></td>
            <td>${formatDateTime(r.begin)} – ${formatDateTime(r.end)}</td>
            <td class="mono">p=${r.policy.p}${r.policy.pct !== null ? ` pct=${r.policy.pct}` : ''}</td>
            <td class="num">${formatNumber(r.messages)}</td>
            <td><${Time} value=${r.receivedAt}>${formatRelative(r.receivedAt)}<//></td>
          </tr>`)}</tbody>
        </table></div>`}
    <//>
  `;
}
