// One message: who it went to, what happened to each recipient attempt by
// attempt (which MX, over TLS or not, what the remote server said), and its headers.
import { html } from 'htm/preact';
import { enc } from '../lib/api.js';
import { useApi } from '../lib/use-api.js';
import { formatDateTime, formatDuration, formatNumber, statusInfo } from '../lib/format.js';
import { Link } from '../lib/router.js';
import { ArrowLeftIcon } from '../components/icons.js';
import { Address, Badge, Card, CopyButton, EmptyState, ErrorNotice, Loading, Notice, PageHeader, StatusBadge, Time } from '../components/ui.js';

/** @param {{ id: string }} props */
export function MessagePage({ id }) {
  const message = useApi(`/messages/${enc(id)}`);
  const back = html`<${Link} href="/app/messages" class="back-link"><${ArrowLeftIcon} />All messages<//>`;
  if (message.loading && !message.data) return html`<${PageHeader} title="Message" back=${back} /><${Loading} />`;
  if (!message.data) return html`<${PageHeader} title="Message" back=${back} /><${ErrorNotice} error=${message.error} />`;

  const m = message.data;
  const recipients = m.recipients ?? [];
  const headers = headerList(m.headers);
  const tags = Array.isArray(m.tags) ? m.tags : [];
  return html`
    <${PageHeader} title=${m.subject || '(no subject)'} back=${back}
      actions=${html`<button type="button" class="btn" onClick=${message.reload}>Refresh</button>`} />
    ${m.bodyExpiredAt ? html`<${Notice} kind="info" title="The body of this message has expired">${m.notice}<//>` : null}
    <${Card} title="Summary">
      <dl class="summary">
        <div><dt>From</dt><dd class="mono">${m.from}</dd></div>
        <div><dt>Accepted</dt><dd><${Time} value=${m.createdAt}>${formatDateTime(m.createdAt, { seconds: true })}<//></dd></div>
        <div><dt>Recipients</dt><dd>${formatNumber(recipients.length)}</dd></div>
        ${m.size ? html`<div><dt>Size</dt><dd>${formatNumber(Math.ceil(m.size / 1024))} KB</dd></div>` : null}
        ${m.source ? html`<div><dt>Sent over</dt><dd>${m.source === 'api' ? 'HTTP API' : m.source === 'smtp' ? 'SMTP' : m.source}</dd></div>` : null}
        ${tags.length ? html`<div><dt>Tags</dt><dd>${tags.map((/** @type {string} */ t) => html`<${Badge} tone="muted">${t}<//> `)}</dd></div>` : null}
        <div><dt>Queue id</dt><dd class="id-cell"><code class="mono">${m.id}</code><${CopyButton} value=${m.id} label="queue id" compact /></dd></div>
        ${m.messageId ? html`<div><dt>Message-ID</dt><dd class="mono break">${m.messageId}</dd></div>` : null}
      </dl>
    <//>
    <${Card} title="Recipients" description="One delivery per recipient; each attempt shows the server tried and its reply.">
      ${recipients.length === 0 ? html`<${EmptyState} title="No recipients" />`
        : html`<ul class="recipients">${recipients.map((/** @type {any} */ r) => html`<${RecipientItem} key=${r.address} recipient=${r} />`)}</ul>`}
    <//>
    ${headers.length > 0 ? html`<${Card} title="Headers" description="As Mailroom accepted them, before signing.">
      <dl class="headers">${headers.map((h) => html`<div class="header-row"><dt>${h.name}</dt><dd class="mono">${h.value}</dd></div>`)}</dl>
    <//>` : null}
  `;
}

/** Headers may come as [{name,value}], [[name,value]], an object, or raw text. @param {any} raw @returns {{name: string, value: string}[]} */
function headerList(raw) {
  if (!raw) return [];
  if (typeof raw === 'string') {
    return raw.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/).filter(Boolean).map((line) => {
      const colon = line.indexOf(':');
      return { name: line.slice(0, colon), value: line.slice(colon + 1).trim() };
    });
  }
  if (Array.isArray(raw)) return raw.map((h) => (Array.isArray(h) ? { name: h[0], value: String(h[1]) } : { name: h.name ?? h.key, value: String(h.value) }));
  return Object.entries(raw).flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((v) => ({ name, value: String(v) })));
}

/** @param {{ recipient: any }} props */
function RecipientItem({ recipient: r }) {
  const attempts = r.attempts ?? [];
  const info = statusInfo(r.status);
  return html`<li class="recipient" data-recipient=${r.address}>
    <div class="recipient-head">
      <${Address} class="mono strong" value=${r.address} />
      <${StatusBadge} status=${r.status} />
    </div>
    ${r.explanation ? html`<div class="explanation" data-explanation>
        <p class="explanation-summary">${r.explanation.summary}</p>
        ${r.explanation.action ? html`<p class="small"><strong>What to do: </strong>${r.explanation.action}</p>` : null}
      </div>` : html`<p class="muted small">${info.help}</p>`}
    ${r.nextAttemptAt && (r.status === 'deferred' || r.status === 'queued') ? html`<p class="muted small" data-schedule>
        Next attempt <${Time} value=${r.nextAttemptAt}>${formatDateTime(r.nextAttemptAt)}<//>${r.expiresAt ? html`; Mailroom gives up at <${Time} value=${r.expiresAt}>${formatDateTime(r.expiresAt)}<//>` : null}.
      </p>` : null}
    ${attempts.length === 0 ? html`<p class="small muted">No delivery attempt yet.</p>`
      : html`<ol class="timeline" aria-label=${`Delivery attempts to ${r.address}`}>${attempts.map((/** @type {any} */ a, /** @type {number} */ i) => html`<${AttemptItem} attempt=${a} index=${i} shown=${r.explanation?.summary} />`)}</ol>`}
  </li>`;
}

/** Remote replies start with a code: 2xx accepted, 4xx try later, 5xx refused. @param {string} reply */
function replyTone(reply) {
  const code = /^\s*(\d)/.exec(reply ?? '')?.[1];
  return code === '2' ? 'ok' : code === '4' ? 'warn' : code === '5' ? 'bad' : 'muted';
}

/**
 * Outbound TLS is opportunistic: say whether it was used, which version, and
 * whether the MX's certificate could be verified (delivery goes ahead either way).
 * @param {any} tls
 */
function tlsText(tls) {
  if (!tls || tls.used === false) return html`<span class="muted">Not encrypted</span>`;
  const version = tls.version ?? 'TLS';
  if (tls.authorized === false) return html`<span class="mono">${version}</span> <span class="muted">(certificate not verified)</span>`;
  return html`<span class="mono">${version}</span>${tls.authorized ? html` <span class="muted">(verified certificate)</span>` : null}`;
}

/** `shown`: the recipient's explanation, not repeated on the attempt it came from. @param {{ attempt: any, index: number, shown?: string }} props */
function AttemptItem({ attempt: a, index, shown }) {
  const tone = replyTone(a.reply);
  const tls = tlsText(a.tls);
  return html`<li class=${`timeline-item timeline-${tone}`}>
    <div class="timeline-dot" aria-hidden="true"></div>
    <div class="timeline-body">
      <div class="timeline-head">
        <strong>Attempt ${index + 1}</strong>
        <span class="muted small"><${Time} value=${a.at}>${formatDateTime(a.at, { seconds: true })}<//> · ${formatDuration(a.durationMs)}</span>
      </div>
      <dl class="attempt-facts">
        <div><dt>MX</dt><dd class="mono">${a.mx ?? '—'}${a.ip ? html` <span class="muted">(${a.ip})</span>` : null}</dd></div>
        <div><dt>TLS</dt><dd>${tls}</dd></div>
        ${a.mtaSts ? html`<div><dt>MTA-STS</dt><dd>${a.mtaSts.mode} <span class="muted">(policy ${a.mtaSts.policyId})</span>${a.mtaSts.failure ? html` — ${a.mtaSts.failure}` : null}</dd></div>` : null}
      </dl>
      ${a.explanation && a.explanation.summary !== shown ? html`<p class="small attempt-explanation">${a.explanation.summary}</p>` : null}
      <div class="reply"><span class="reply-label">Remote reply</span><code class=${`mono reply-text reply-${tone}`}>${a.reply || '—'}</code></div>
    </div>
  </li>`;
}
