// Settings → Domains: the sending domains of this account, and adding one.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { enc, post } from '../lib/api.js';
import { useApi } from '../lib/use-api.js';
import { formatDateTime, formatRelative } from '../lib/format.js';
import { Link, navigate } from '../lib/router.js';
import { Badge, Card, EmptyState, ErrorNotice, Field, Loading, PageHeader } from '../components/ui.js';

export function DomainsPage() {
  const domains = useApi('/domains');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {any} */ (null));

  /** @param {Event} event */
  const add = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = await post('/domains', { name: name.trim() });
      navigate(`/app/domains/${enc(created.domain.name)}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  /** @type {any[]} */
  const list = domains.data?.items ?? [];
  return html`
    <${PageHeader} section="Settings" title="Domains" description="Mailroom sends only from domains you have proven are yours, by publishing a few DNS records." />
    <${Card} title="Add a sending domain">
      <form class="inline-form" onSubmit=${add}>
        <${Field} id="domain-name" label="Domain" hint="The part after @ in your From address, e.g. example.com." error=${error?.message}>
          <input id="domain-name" type="text" inputmode="url" autocomplete="off" autocapitalize="off" spellcheck="false" required
            placeholder="example.com" value=${name} aria-invalid=${error ? 'true' : undefined}
            aria-describedby=${error ? 'domain-name-error' : 'domain-name-hint'}
            onInput=${(/** @type {any} */ e) => setName(e.currentTarget.value)} />
        <//>
        <button type="submit" class="btn btn-primary" disabled=${busy}>${busy ? 'Adding…' : 'Add domain'}</button>
      </form>
    <//>
    <${Card} title="Your domains">
      <${ErrorNotice} error=${domains.error} />
      ${domains.loading && !domains.data ? html`<${Loading} />`
        : list.length === 0 ? html`<${EmptyState} title="No domains yet">Add the domain you send from; you will get the DNS records to publish.<//>`
        : html`<ul class="item-list" aria-label="Sending domains">${list.map((d) => html`<li key=${d.name}>
            <${Link} href=${`/app/domains/${enc(d.name)}`} class="item-link" data-domain=${d.name}>
              <span class="item-main">
                <span class="item-title mono">${d.name}</span>
                <span class="item-meta">${metaLine(d)}</span>
              </span>
              ${d.verified ? html`<${Badge} tone="ok">Verified<//>` : html`<${Badge} tone="warn">Not verified<//>`}
            <//>
          </li>`)}</ul>`}
    <//>
  `;
}

/** @param {any} d */
function metaLine(d) {
  if (d.verified && d.verifiedAt) return `Verified ${formatDateTime(d.verifiedAt)}`;
  if (d.lastCheckedAt) return `Last checked ${formatRelative(d.lastCheckedAt)} — publish the records, then verify`;
  return d.createdAt ? `Added ${formatDateTime(d.createdAt)} — publish the DNS records, then verify` : 'Publish the DNS records, then verify';
}
