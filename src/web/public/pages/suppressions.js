// Suppressions: addresses Mailroom will not send to for this account — hard
// bounces and complaints land here by themselves; people can add and remove.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { del, enc, get, post, query } from '../lib/api.js';
import { useApi } from '../lib/use-api.js';
import { formatDateTime } from '../lib/format.js';
import { Address, Badge, Card, ConfirmButton, EmptyState, ErrorNotice, Field, Loading, PageHeader, Time } from '../components/ui.js';

const REASONS = {
  bounce: { label: 'Hard bounce', tone: 'bad' },
  'hard-bounce': { label: 'Hard bounce', tone: 'bad' },
  bounced: { label: 'Hard bounce', tone: 'bad' },
  complaint: { label: 'Spam complaint', tone: 'bad' },
  complained: { label: 'Spam complaint', tone: 'bad' },
  manual: { label: 'Added by hand', tone: 'muted' },
  unsubscribe: { label: 'Unsubscribed', tone: 'muted' },
};

/** @param {string} reason */
function reasonBadge(reason) {
  const info = /** @type {Record<string, {label: string, tone: string}>} */ (REASONS)[reason] ?? { label: reason, tone: 'muted' };
  return html`<${Badge} tone=${info.tone}>${info.label}<//>`;
}

export function SuppressionsPage() {
  const list = useApi('/suppressions');
  const [more, setMore] = useState(/** @type {any[]} */ ([]));
  const [next, setNext] = useState(/** @type {string | null} */ (null));
  const [address, setAddress] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {any} */ (null));
  useEffect(() => { setMore([]); setNext(list.data?.next ?? null); }, [list.data]);

  /** @param {Event} event */
  const add = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await post('/suppressions', { address: address.trim(), reason: 'manual' });
      setAddress('');
      await list.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  /** @param {string} target */
  const remove = async (target) => {
    setError(null);
    try {
      await del(`/suppressions/${enc(target)}`);
      await list.reload();
    } catch (err) {
      setError(err);
    }
  };

  const loadMore = async () => {
    if (!next) return;
    const data = await get(`/suppressions${query({ cursor: next })}`).catch((err) => { setError(err); return null; });
    if (!data) return;
    setMore((m) => [...m, ...(data.items ?? [])]);
    setNext(data.next ?? null);
  };

  const items = [...(list.data?.items ?? []), ...more];
  return html`
    <${PageHeader} section="Settings" title="Suppressions"
      description="Mailroom skips these addresses to protect your sending reputation. Hard bounces and spam complaints are added automatically." />
    <${Card} title="Suppress an address">
      <form class="inline-form" onSubmit=${add}>
        <${Field} id="suppress-address" label="Email address" error=${error?.field === 'address' ? error.message : null}>
          <input id="suppress-address" type="email" required placeholder="someone@example.com" value=${address}
            onInput=${(/** @type {any} */ e) => setAddress(e.currentTarget.value)} />
        <//>
        <button type="submit" class="btn btn-primary" disabled=${busy}>${busy ? 'Adding…' : 'Add to list'}</button>
      </form>
    <//>
    ${error && error.field !== 'address' ? html`<${ErrorNotice} error=${error} />` : null}
    <${ErrorNotice} error=${list.error} />
    <${Card} class="card-flush">
      ${list.loading && !list.data ? html`<${Loading} />`
        : items.length === 0 ? html`<${EmptyState} title="No suppressed addresses">Good news: nothing has bounced hard or complained.<//>`
        : html`<div class="table-wrap"><table class="table" aria-label="Suppressed addresses">
          <thead><tr><th scope="col">Address</th><th scope="col">Reason</th><th scope="col">Since</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>${items.map((s) => html`<tr key=${s.address} data-address=${s.address}>
            <td data-label="Address" class="mono"><${Address} value=${s.address} /></td>
            <td data-label="Reason">${reasonBadge(s.reason)}</td>
            <td data-label="Since"><${Time} value=${s.createdAt}>${formatDateTime(s.createdAt)}<//></td>
            <td class="cell-actions"><${ConfirmButton} label="Remove" question=${`Send to ${s.address} again?`} onConfirm=${() => remove(s.address)} /></td>
          </tr>`)}</tbody>
        </table></div>`}
      ${next ? html`<div class="card-footer"><button type="button" class="btn" onClick=${loadMore}>Load more</button></div>` : null}
    <//>
  `;
}
