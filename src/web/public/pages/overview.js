// Overview: what a user sees first — sending today against the limit, how much
// arrived, what was held back or refused and why, the queue, the certificate,
// and the domains that need attention, each linking to where it is fixed.
import { html } from 'htm/preact';
import { useApi } from '../lib/use-api.js';
import { useSession } from '../lib/session.js';
import { formatDateTime, formatNumber, formatRelative } from '../lib/format.js';
import { Link } from '../lib/router.js';
import { Badge, Card, ErrorNotice, Loading, Notice, PageHeader } from '../components/ui.js';
import { UsageMeter } from '../components/usage-meter.js';

/** @param {number | null} rate */
function percent(rate) {
  return rate === null ? '—' : `${Math.round(rate * 1000) / 10}%`;
}

export function OverviewPage() {
  const { isAdmin } = useSession();
  const overview = useApi('/overview');
  const all = useApi(isAdmin ? '/overview?account=all' : null);
  const data = overview.data;

  if (overview.loading && !data) return html`<${PageHeader} section="Sending" title="Overview" /><${Loading} />`;
  if (overview.error && !data) return html`<${PageHeader} section="Sending" title="Overview" /><${ErrorNotice} error=${overview.error} />`;

  const counts = data.deliveries.counts;
  const sending = data.sending;
  return html`
    <${PageHeader} section="Sending" title="Overview" description="Your sending in the last 24 hours, and anything that needs your attention." />
    ${data.hostWarning ? html`<${Notice} kind="warn" title="Server name not usable yet">${data.hostWarning}<//>` : null}
    <div class="overview-tiles" data-testid="overview-tiles">
      <${Tile} label="Sent today" value=${sending ? formatNumber(sending.sentLast24h) : '—'} detail=${sending ? `of ${formatNumber(sending.dailyLimit)} allowed in 24 hours` : ''} />
      <${Tile} label="Delivery rate" value=${percent(data.deliveries.deliveryRate)} detail=${`${formatNumber(counts.delivered)} delivered`} testId="delivery-rate" />
      <${Tile} label="Deferred" value=${formatNumber(counts.deferred)} detail="waiting for a retry" tone=${counts.deferred > 0 ? 'warn' : ''} testId="deferred" />
      <${Tile} label="Bounced" value=${formatNumber(counts.bounced + counts.expired)} detail=${counts.expired > 0 ? `${formatNumber(counts.expired)} gave up after retries` : 'refused for good'} tone=${counts.bounced + counts.expired > 0 ? 'bad' : ''} testId="bounced" />
      <${Tile} label="In the queue" value=${formatNumber(data.queue.depth)}
        detail=${data.queue.oldestQueuedAt ? `oldest since ${formatRelative(data.queue.oldestQueuedAt)}` : 'nothing waiting'} testId="queue" />
    </div>
    <div class="grid-2">
      <div class="stack">
        <${Card} title="Why mail was held back or refused" description="The most common replies in the last 24 hours, as the receiving side (or DNS) gave them.">
          <${Reasons} title="Deferred (Mailroom retries these)" reasons=${data.deliveries.reasons.deferred} status="deferred" />
          <${Reasons} title="Bounced (not retried)" reasons=${data.deliveries.reasons.bounced} status="bounced" />
        <//>
        <${Card} title="Domains that need attention">
          ${data.domainsNeedingAttention.length === 0
            ? html`<p class="muted" data-testid="domains-ok">Every sending domain is verified and its records check out. <${Link} href="/app/domains">Settings → Domains<//></p>`
            : html`<ul class="attention-list" data-testid="domains-attention">${data.domainsNeedingAttention.map((/** @type {any} */ d) => html`<li>
                <${Link} href=${`/app/domains/${encodeURIComponent(d.name)}`} class="strong">${d.name}<//>
                ${d.verified ? html`<${Badge} tone="warn">Check failing<//>` : html`<${Badge} tone="bad">Not verified<//>`}
                <p class="small muted">${d.problem}</p>
              </li>`)}</ul>`}
        <//>
      </div>
      <div class="stack">
        ${sending ? html`<${Card} title="Sending limit" description="Rolling 24 hours; every recipient counts as one email.">
          <${UsageMeter} usage=${{ limit: sending.dailyLimit, sent: sending.sentLast24h, resetsAt: sending.resetsAt, fraction: sending.dailyLimit > 0 ? Math.min(1, sending.sentLast24h / sending.dailyLimit) : 0 }} />
        <//>` : null}
        <${Card} title="TLS certificate">
          <${CertificateSummary} certificate=${data.certificate} />
        <//>
        ${isAdmin && all.data ? html`<${Card} title="All accounts" description="Everyone’s mail in the last 24 hours.">
          <dl class="summary" data-testid="all-accounts">
            <div><dt>Delivered</dt><dd>${formatNumber(all.data.deliveries.counts.delivered)}</dd></div>
            <div><dt>Deferred</dt><dd>${formatNumber(all.data.deliveries.counts.deferred)}</dd></div>
            <div><dt>Bounced</dt><dd>${formatNumber(all.data.deliveries.counts.bounced + all.data.deliveries.counts.expired)}</dd></div>
            <div><dt>Queue</dt><dd>${formatNumber(all.data.queue.depth)}${all.data.queue.oldestQueuedAt ? `, oldest since ${formatDateTime(all.data.queue.oldestQueuedAt)}` : ''}</dd></div>
          </dl>
          <${Link} href="/app/messages">Every account’s messages →<//>
        <//>` : null}
      </div>
    </div>
  `;
}

/** @param {{ label: string, value: string, detail?: string, tone?: string, testId?: string }} props */
function Tile({ label, value, detail, tone = '', testId }) {
  return html`<div class=${`overview-tile ${tone ? `tile-${tone}` : ''}`} data-testid=${testId}>
    <span class="overview-label">${label}</span>
    <span class="overview-value">${value}</span>
    ${detail ? html`<span class="overview-detail">${detail}</span>` : null}
  </div>`;
}

/** @param {{ title: string, reasons: { reply: string, count: number }[], status: string }} props */
function Reasons({ title, reasons, status }) {
  return html`<div class="reasons" data-status=${status}>
    <h3 class="reasons-title">${title}</h3>
    ${reasons.length === 0 ? html`<p class="muted small">None.</p>` : html`<ul class="reason-list">${reasons.map((r) => html`<li>
      <span class="reason-count">${formatNumber(r.count)}×</span><code class="reason-reply">${r.reply}</code>
    </li>`)}</ul>
    <${Link} href=${`/app/messages?status=${status}`} class="small">See these messages →<//>`}
  </div>`;
}

/** @param {{ certificate: any }} props */
function CertificateSummary({ certificate }) {
  if (!certificate) return html`<p class="muted">This node serves no TLS listener.</p>`;
  const tone = certificate.expired ? 'bad' : certificate.gmailAccepts ? 'ok' : 'warn';
  const word = certificate.expired ? 'Expired' : certificate.gmailAccepts ? 'Trusted' : certificate.selfSigned ? 'Self-signed' : 'Not trusted';
  return html`<div class="cert-summary" data-testid="certificate">
    <p><${Badge} tone=${tone}>${word}<//> <span class="mono">${certificate.subject}</span>, ${certificate.expired ? 'expired' : `${certificate.daysLeft} days left`}</p>
    ${certificate.problems.length > 0 ? html`<ul class="small muted">${certificate.problems.map((/** @type {string} */ p) => html`<li>${p}</li>`)}</ul>` : null}
    <${Link} href="/app/profile" class="small">Profile & SMTP →<//>
  </div>`;
}
