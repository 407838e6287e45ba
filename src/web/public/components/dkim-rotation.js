// DKIM key rotation on a domain's page: start one, see the new record to publish beside the
// current one (signing switches by itself once DNS has it), and the earlier keys whose records
// may be removed after the date shown.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { enc, post } from '../lib/api.js';
import { formatDateTime } from '../lib/format.js';
import { Card, CopyButton, ErrorNotice } from './ui.js';

/** @param {{ name: string, rotation: any, currentSelector: string, onChange: () => Promise<void> }} props */
export function DkimRotationCard({ name, rotation, currentSelector, onChange }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {any} */ (null));
  const start = async () => {
    setBusy(true);
    setError(null);
    try {
      await post(`/domains/${enc(name)}/dkim-rotation`);
      await onChange();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const pending = rotation?.pending;
  const retired = rotation?.retired ?? [];
  return html`<${Card} title="DKIM key rotation"
      description=${html`Signing now uses the key <code class="mono">${currentSelector}</code>. A new key is published beside it first, so no mail goes out with a key receivers cannot find.`}>
    <div data-testid="dkim-rotation">
      <${ErrorNotice} error=${error} />
      ${pending ? html`<div class="rotation-pending" data-selector=${pending.selector}>
          <p><strong>New key <code class="mono">${pending.selector}</code>:</strong> publish this TXT record beside the current one. Signing switches to it by itself once DNS has it (or press Verify).</p>
          <dl class="record-fields">
            <div class="record-field"><dt>Name</dt><dd><code class="mono">${pending.record.name}</code><${CopyButton} value=${pending.record.name} label="new DKIM record name" compact /></dd></div>
            <div class="record-field"><dt>Value</dt><dd><code class="mono record-value">${pending.record.value}</code><${CopyButton} value=${pending.record.value} label="new DKIM record value" compact /></dd></div>
          </dl>
        </div>`
        : html`<button type="button" class="btn" onClick=${start} disabled=${busy} data-action="rotate-dkim">${busy ? 'Generating…' : 'Rotate DKIM key'}</button>`}
      ${retired.length > 0 ? html`<ul class="rotation-retired" aria-label="Earlier DKIM keys">${retired.map((/** @type {any} */ k) => html`<li data-selector=${k.selector}>
          Earlier key <code class="mono">${k.selector}</code>: keep <code class="mono">${k.name}</code> published until <strong>${formatDateTime(k.removableAfter)}</strong> (mail signed with it may still be on its way); you may remove it after that.
        </li>`)}</ul>` : null}
    </div>
  <//>`;
}
