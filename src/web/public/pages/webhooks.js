// Webhooks: endpoints Mailroom POSTs delivery events to, a test button, and
// the recent deliveries log so a failing endpoint can be debugged from here.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { del, enc, post } from '../lib/api.js';
import { useApi } from '../lib/use-api.js';
import { formatDateTime, formatDuration, formatRelative } from '../lib/format.js';
import { Badge, Card, ConfirmButton, CopyButton, EmptyState, ErrorNotice, Field, Loading, Notice, PageHeader, Time } from '../components/ui.js';

const EVENTS = [
  { type: 'accepted', help: 'Mailroom took the message' },
  { type: 'delivered', help: 'the receiving server accepted it' },
  { type: 'deferred', help: 'a temporary failure; will retry' },
  { type: 'bounced', help: 'refused for good' },
  { type: 'complained', help: 'marked as spam' },
  { type: 'suppressed', help: 'skipped: on the suppression list' },
  { type: 'expired', help: 'retries ran out' },
  { type: 'domain_records_changed', help: "a domain's DNS records disappeared or changed" },
  { type: 'dmarc_weekly_summary', help: "the week's DMARC reports of a domain: what passed, what failed, who sent as it without passing" },
  { type: 'domain_records_restored', help: "a domain's DNS records check out again" },
  { type: 'dkim_key_rotated', help: 'signing moved to a new DKIM key' },
];

export function WebhooksPage() {
  const hooks = useApi('/webhooks');
  const list = hooks.data?.items ?? [];
  return html`
    <${PageHeader} section="Settings" title="Webhooks" description="Mailroom POSTs a JSON event to your endpoint when something happens to a message, and retries until it answers 2xx." />
    <${AddWebhook} onAdded=${hooks.reload} />
    <${ErrorNotice} error=${hooks.error} />
    ${hooks.loading && !hooks.data ? html`<${Loading} />`
      : list.length === 0 ? html`<${Card}><${EmptyState} title="No endpoints yet">Add one above to hear about deliveries and bounces as they happen.<//><//>`
      : list.map((/** @type {any} */ hook) => html`<${WebhookCard} key=${hook.id} hook=${hook} onRemoved=${hooks.reload} />`)}
  `;
}

/** @param {{ onAdded: () => Promise<void> }} props */
function AddWebhook({ onAdded }) {
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState(() => new Set(['delivered', 'bounced', 'complained']));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {any} */ (null));
  const [created, setCreated] = useState(/** @type {{ url: string, secret: string } | null} */ (null));

  /** @param {string} type */
  const toggle = (type) => {
    const next = new Set(events);
    if (next.has(type)) next.delete(type);
    else next.add(type);
    setEvents(next);
  };
  /** @param {Event} event */
  const submit = async (event) => {
    event.preventDefault();
    if (events.size === 0) return setError({ message: 'Choose at least one event.', field: 'events' });
    setBusy(true);
    setError(null);
    try {
      const result = await post('/webhooks', { url: url.trim(), events: EVENTS.map((e) => e.type).filter((t) => events.has(t)) });
      setCreated({ url: result.url, secret: result.secret });
      setUrl('');
      await onAdded();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return html`<${Card} title="Add an endpoint">
    ${created ? html`<div class="reveal" role="region" aria-label="Signing secret of the new endpoint">
      <div class="reveal-head"><strong>Endpoint added — here is its signing secret</strong>
        <span class="muted small">Every request carries a <span class="mono">Mailroom-Signature</span> header: an HMAC-SHA256 of the timestamp and body made with this secret.
        Copy it now: it is not shown again.</span></div>
      <div class="reveal-row"><code class="mono reveal-secret" data-testid="webhook-secret">${created.secret}</code><${CopyButton} value=${created.secret} label="signing secret" /></div>
      <button type="button" class="btn btn-sm" onClick=${() => setCreated(null)}>I have copied it</button>
    </div>` : null}
    <form class="stack" onSubmit=${submit}>
      <${Field} id="webhook-url" label="Endpoint URL" hint="HTTPS recommended. Each request is signed with the endpoint’s secret." error=${error?.field === 'url' ? error.message : null}>
        <input id="webhook-url" type="url" required placeholder="https://example.com/hooks/mailroom" value=${url}
          onInput=${(/** @type {any} */ e) => setUrl(e.currentTarget.value)} />
      <//>
      <fieldset class="checks">
        <legend>Events</legend>
        ${EVENTS.map((e) => html`<label class="check" key=${e.type}>
          <input type="checkbox" name="events" value=${e.type} checked=${events.has(e.type)} onChange=${() => toggle(e.type)} />
          <span><strong>${e.type}</strong> <span class="muted">— ${e.help}</span></span>
        </label>`)}
      </fieldset>
      ${error && error.field !== 'url' ? html`<${ErrorNotice} error=${error} />` : null}
      <div><button type="submit" class="btn btn-primary" disabled=${busy}>${busy ? 'Adding…' : 'Add endpoint'}</button></div>
    </form>
  <//>`;
}

/** @param {{ hook: any, onRemoved: () => Promise<void> }} props */
function WebhookCard({ hook, onRemoved }) {
  const deliveries = useApi(`/webhooks/${enc(hook.id)}/deliveries`);
  const [testing, setTesting] = useState(false);
  const [result, setResult] = useState(/** @type {any} */ (null));
  const [error, setError] = useState(/** @type {any} */ (null));

  const test = async () => {
    setTesting(true);
    setError(null);
    try {
      setResult(await post(`/webhooks/${enc(hook.id)}/test`));
      await deliveries.reload();
    } catch (err) {
      setError(err);
    } finally {
      setTesting(false);
    }
  };
  const remove = async () => {
    try {
      await del(`/webhooks/${enc(hook.id)}`);
      await onRemoved();
    } catch (err) {
      setError(err);
    }
  };

  const items = deliveries.data?.items ?? [];
  return html`<${Card} class="webhook" title=${html`<span class="mono break">${hook.url}</span>`}
      description=${html`Added ${formatDateTime(hook.createdAt)} · ${(hook.events ?? []).map((/** @type {string} */ t) => html`<${Badge} tone="muted">${t}<//> `)}`}
      actions=${html`<button type="button" class="btn btn-sm" onClick=${test} disabled=${testing}>${testing ? 'Sending…' : 'Send test event'}</button>
        <${ConfirmButton} label="Delete" question="Delete this endpoint?" onConfirm=${remove} />`}>
    ${result ? html`<${TestResult} result=${result} />` : null}
    <${ErrorNotice} error=${error ?? deliveries.error} />
    <h3 class="subheading">Recent deliveries</h3>
    ${deliveries.loading && !deliveries.data ? html`<${Loading} />`
      : items.length === 0 ? html`<p class="muted small">Nothing sent to this endpoint yet. Send a test event to check it.</p>`
      : html`<div class="table-wrap"><table class="table table-compact" aria-label="Recent webhook deliveries">
        <thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Result</th><th scope="col">Response</th><th scope="col">Tries</th></tr></thead>
        <tbody>${items.slice(0, 20).map((/** @type {any} */ d) => html`<tr key=${d.id}>
          <td data-label="When"><${Time} value=${d.createdAt}>${formatRelative(d.createdAt)}<//></td>
          <td data-label="Event">${d.type}</td>
          <td data-label="Result">${deliveryBadge(d)}</td>
          <td data-label="Response" class="break">${responseText(d)}</td>
          <td data-label="Tries" class="num">${d.attemptCount}</td>
        </tr>`)}</tbody>
      </table></div>`}
  <//>`;
}

/** @param {any} d */
function deliveryBadge(d) {
  if (d.status === 'delivered') return html`<${Badge} tone="ok">Delivered<//>`;
  if (d.status === 'failed') return html`<${Badge} tone="bad">Failed<//>`;
  return html`<${Badge} tone="warn">${d.attemptCount > 0 ? 'Retrying' : 'Pending'}<//>`;
}

/** The latest attempt's answer, e.g. "HTTP 200 · 35 ms" or "connection refused". @param {any} d */
function responseText(d) {
  const last = d.attempts?.[0];
  if (!last) return html`<span class="muted">${d.nextAttemptAt ? `First try ${formatRelative(d.nextAttemptAt)}` : '—'}</span>`;
  const parts = [last.statusCode ? `HTTP ${last.statusCode}` : null, last.error, formatDuration(last.durationMs)].filter(Boolean);
  return parts.join(' · ');
}

/** @param {{ result: any }} props */
function TestResult({ result }) {
  if (result.delivered) return html`<${Notice} kind="ok" title="Test event delivered">Your endpoint answered HTTP ${result.statusCode} in ${formatDuration(result.durationMs)}.<//>`;
  return html`<${Notice} kind="error" title="Test event failed">
    ${result.statusCode ? `Your endpoint answered HTTP ${result.statusCode}` : 'Your endpoint could not be reached'}${result.error ? ` — ${result.error}` : ''}.
  <//>`;
}
