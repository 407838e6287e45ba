// Administration: the sites mail goes to (every Google-hosted domain is one site), the limits
// adaptive shaping gives each for the whole cluster, the reply that last changed them, and
// a pin to override them.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { del, enc, request } from '../lib/api.js';
import { useApi } from '../lib/use-api.js';
import { formatDateTime, formatNumber, formatRelative } from '../lib/format.js';
import { Badge, Card, EmptyState, ErrorNotice, Field, Loading, PageHeader, Time } from '../components/ui.js';

export function DestinationsPage() {
  const destinations = useApi('/destinations?limit=100');
  /** @type {any[]} */
  const list = destinations.data?.items ?? [];
  return html`
    <${PageHeader} title="Destinations"
      description="Where mail goes, grouped by the servers that receive it. When a site answers that we send too fast, Mailroom sends it less — from every node — and speeds up again while mail goes through. Mail held back this way is not an attempt."
      actions=${html`<button type="button" class="btn btn-sm" onClick=${destinations.reload}>Refresh</button>`} />
    <${ErrorNotice} error=${destinations.error} />
    <${Card} class="card-flush" title="Sites">
      ${destinations.loading && !destinations.data ? html`<${Loading} />`
        : list.length === 0 ? html`<${EmptyState} title="No mail has gone anywhere yet">Sites appear here once deliveries reach them.<//>`
        : html`<div class="table-wrap"><table class="table destinations-table" aria-label="Destinations">
          <thead><tr>
            <th scope="col">Site</th><th scope="col">Limits now</th><th scope="col">Why</th>
            <th scope="col" class="num">Mail</th><th scope="col"><span class="sr-only">Actions</span></th>
          </tr></thead>
          <tbody>${list.map((/** @type {any} */ d) => html`<${DestinationRow} key=${d.site} destination=${d} onChanged=${destinations.reload} />`)}</tbody>
        </table></div>`}
    <//>
  `;
}

/** @param {{ destination: any, onChanged: () => Promise<void> }} props */
function DestinationRow({ destination: d, onChanged }) {
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState(/** @type {any} */ (null));
  const pinned = d.pinned.concurrency !== null || d.pinned.rate !== null;
  const unpin = async () => {
    setError(null);
    try {
      await del(`/destinations/${enc(d.site)}/pin`);
      await onChanged();
    } catch (err) {
      setError(err);
    }
  };
  return html`<tr data-site=${d.site}>
    <td>
      <strong class="mono">${d.site}</strong>
      ${d.domains.length > 0 ? html`<div class="muted small">${d.domains.slice(0, 5).join(', ')}${d.domains.length > 5 ? ' …' : ''}</div>` : null}
    </td>
    <td data-testid="limits" data-label="Limits">
      <div>${formatNumber(d.concurrency)} connections · ${d.rate === null ? 'no rate limit' : `${d.rate} msg/s`}</div>
      <div class="badges">
        ${d.suspendedUntil ? html`<${Badge} tone="bad">Suspended until ${formatDateTime(d.suspendedUntil)}<//>` : null}
        ${pinned ? html`<${Badge} tone="info">Pinned<//>` : d.learnt.rate !== null ? html`<${Badge} tone="warn">Slowed by the site<//>` : html`<${Badge} tone="muted">Default<//>`}
      </div>
      ${d.deliveryNodes > 1 ? html`<div class="muted small">shared by ${d.deliveryNodes} delivery nodes</div>` : null}
    </td>
    <td data-testid="why" data-label="Why">
      ${d.lastChange ? html`<div>${changeText(d.lastChange.kind)} <${Time} value=${d.lastChange.at}>${formatRelative(d.lastChange.at)}<//></div>
        ${d.lastChange.reply ? html`<div class="mono small reply" title=${d.lastChange.reply}>${d.lastChange.reply}</div>` : null}` : html`<span class="muted">Never changed</span>`}
    </td>
    <td class="num stats" data-label="Mail" data-testid="stats">
      <div>${formatNumber(d.stats.delivered)} delivered</div>
      <div title="Replies that asked us to slow down">${formatNumber(d.stats.throttled)} throttled</div>
      <div title="Deliveries held back for this site: not counted as attempts">${formatNumber(d.stats.heldBack)} held back</div>
    </td>
    <td>
      ${editing ? html`<${PinForm} destination=${d} onDone=${async (/** @type {boolean} */ saved) => { setEditing(false); if (saved) await onChanged(); }} />`
        : html`<div class="row-actions">
          <button type="button" class="btn btn-sm" onClick=${() => setEditing(true)} aria-label=${`Pin limits of ${d.site}`}>Pin…</button>
          ${pinned ? html`<button type="button" class="btn btn-sm" onClick=${unpin} aria-label=${`Unpin ${d.site}`}>Unpin</button>` : null}
        </div>`}
      <${ErrorNotice} error=${error} />
    </td>
  </tr>`;
}

/** @param {string} kind */
function changeText(kind) {
  return { decreased: 'Slowed down', increased: 'Sped up', suspended: 'Suspended', pinned: 'Pinned' }[kind] ?? kind;
}

/** @param {{ destination: any, onDone: (saved: boolean) => Promise<void> }} props */
function PinForm({ destination: d, onDone }) {
  const [concurrency, setConcurrency] = useState(String(d.pinned.concurrency ?? d.concurrency));
  const [rate, setRate] = useState(d.pinned.rate ?? d.rate ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {any} */ (null));
  const id = (/** @type {string} */ name) => `pin-${name}-${d.site.replace(/[^a-z0-9]/gi, '-')}`;
  /** @param {Event} event */
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      /** @type {Record<string, number>} */
      const body = {};
      if (concurrency !== '') body.concurrency = Number(concurrency);
      if (rate !== '') body.rate = Number(rate);
      await request('PUT', `/destinations/${enc(d.site)}/pin`, body);
      await onDone(true);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  const fieldError = (/** @type {string} */ name) => (error?.field === name ? error.message : null);
  return html`<form class="pin-form" onSubmit=${submit} aria-label=${`Pin limits of ${d.site}`}>
    <${Field} id=${id('concurrency')} label="Connections" error=${fieldError('concurrency')}>
      <input id=${id('concurrency')} type="number" min="1" step="1" value=${concurrency} onInput=${(/** @type {any} */ e) => setConcurrency(e.currentTarget.value)} />
    <//>
    <${Field} id=${id('rate')} label="Messages per second" hint="Empty: keep what shaping learns." error=${fieldError('rate')}>
      <input id=${id('rate')} type="number" min="0.01" step="any" value=${rate} onInput=${(/** @type {any} */ e) => setRate(e.currentTarget.value)} />
    <//>
    <div class="row-actions">
      <button type="submit" class="btn btn-primary btn-sm" disabled=${busy}>${busy ? 'Saving…' : 'Save'}</button>
      <button type="button" class="btn btn-sm" onClick=${() => onDone(false)} disabled=${busy}>Cancel</button>
    </div>
    ${error && !['concurrency', 'rate'].includes(error.field) ? html`<${ErrorNotice} error=${error} />` : null}
  </form>`;
}
