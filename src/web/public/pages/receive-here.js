// Receive here: addresses on the account's verified domains whose mail Mailroom
// catches (Gmail's "Send mail as" confirmation, for a domain without a mailbox),
// the MX record each needs, and the mail caught — the confirmation code and
// link first, each a click to copy — to read, forward or delete.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { del, enc, get, post } from '../lib/api.js';
import { useApi } from '../lib/use-api.js';
import { formatDateTime, formatRelative } from '../lib/format.js';
import { RefreshIcon } from '../components/icons.js';
import { Address, Badge, Card, ConfirmButton, CopyButton, CopyField, EmptyState, ErrorNotice, Field, Loading, Notice, PageHeader, Time } from '../components/ui.js';

/** Caught mail is waited for (Gmail sends it within seconds): the list looks again this often. */
const REFRESH_MS = 5000;

/** @param {number} seconds */
function days(seconds) {
  const d = seconds / 86400;
  return d >= 1 && Number.isInteger(d) ? `${d} day${d === 1 ? '' : 's'}` : `${Math.round(seconds / 3600)} hours`;
}

export function ReceiveHerePage() {
  const addresses = useApi('/receive-here');
  const caught = useApi('/caught-messages');
  const [address, setAddress] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {any} */ (null));

  useEffect(() => {
    const timer = setInterval(() => { if (document.visibilityState === 'visible') caught.reload(); }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [caught.reload]);

  /** @param {Event} event */
  const turnOn = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await post('/receive-here', { address: address.trim() });
      setAddress('');
      await addresses.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  /** @param {string} target */
  const turnOff = async (target) => {
    setError(null);
    try {
      await del(`/receive-here/${enc(target)}`);
      await addresses.reload();
    } catch (err) {
      setError(err);
    }
  };

  const items = addresses.data?.items ?? [];
  const kept = addresses.data ? days(addresses.data.retentionSeconds) : '';
  const messages = caught.data?.items ?? [];
  return html`
    <${PageHeader} section="Settings" title="Receive here"
      description=${html`No mailbox on your domain? Mailroom can receive the mail for an address itself — Gmail’s “Send mail as” confirmation, for example — and keep it ${kept ? `for ${kept}` : 'for a short time'}. Only the addresses listed here receive mail; everything else is refused.`} />
    ${addresses.data && !addresses.data.mxListening ? html`<${Notice} kind="warn" title="This server does not receive mail yet">
      Its mx listener is off (MAILROOM_MX_PORT). Ask your administrator to turn it on (port 25) before you publish the MX record.<//>` : null}
    <${Card} title="Turn on “receive here”" description="An address on one of your verified domains, or on a subdomain of one.">
      <form class="inline-form" onSubmit=${turnOn}>
        <${Field} id="receive-address" label="Address" error=${error?.field === 'address' ? error.message : null}>
          <input id="receive-address" type="email" required placeholder="you@example.com" value=${address}
            onInput=${(/** @type {any} */ e) => setAddress(e.currentTarget.value)} />
        <//>
        <button type="submit" class="btn btn-primary" disabled=${busy}>${busy ? 'Turning on…' : 'Turn on'}</button>
      </form>
    <//>
    ${error && error.field !== 'address' ? html`<${ErrorNotice} error=${error} />` : null}
    <${ErrorNotice} error=${addresses.error} />
    ${addresses.loading && !addresses.data ? html`<${Loading} />` : items.map((/** @type {any} */ a) => html`<${AddressCard} key=${a.address} item=${a} onTurnOff=${() => turnOff(a.address)} />`)}
    <${Card} title="Caught mail" id="caught"
      description=${`Newest first. Each message is deleted ${kept ? `${kept} after it arrived` : 'after a short time'}.`}
      actions=${html`<button type="button" class="btn btn-sm" onClick=${caught.reload}><${RefreshIcon} />Refresh</button>`}>
      <${ErrorNotice} error=${caught.error} />
      ${caught.loading && !caught.data ? html`<${Loading} />`
        : messages.length === 0 ? html`<${EmptyState} title="Nothing caught yet">${items.length === 0
          ? 'Turn “receive here” on for an address first.'
          : 'Mail to your addresses shows here within seconds of arriving; this list refreshes by itself.'}<//>`
        : html`<ul class="caught-list" aria-label="Caught mail">${messages.map((/** @type {any} */ m) => html`<${CaughtItem} key=${m.id} message=${m} onChange=${caught.reload} />`)}</ul>`}
    <//>
  `;
}

/** @param {{ item: any, onTurnOff: () => Promise<void> }} props */
function AddressCard({ item, onTurnOff }) {
  const mx = item.mx;
  return html`<${Card} title=${html`<span class="mono">${item.address}</span>`} class="receive-address"
      description=${html`Publish this MX record at your DNS provider: mail to <span class="mono">@${mx.name}</span> then comes to Mailroom. If ${mx.name} already has mailboxes elsewhere, use an address on a subdomain instead.`}
      actions=${html`<${ConfirmButton} label="Turn off" question=${`Stop receiving mail for ${item.address}?`} confirmLabel="Turn off" onConfirm=${onTurnOff} />`}>
    ${mx.warning ? html`<${Notice} kind="warn" title="Record not usable yet">${mx.warning}<//>` : null}
    <div class="fields fields-compact" data-address=${item.address}>
      <${CopyField} label="Type" value=${mx.type} testId="mx-type" />
      <${CopyField} label="Name" value=${mx.name} testId="mx-name" />
      <${CopyField} label="Priority" value=${String(mx.priority)} testId="mx-priority" />
      <${CopyField} label="Value (mail server)" value=${mx.value} testId="mx-value" />
    </div>
  <//>`;
}

/** @param {{ message: any, onChange: () => Promise<void> }} props */
function CaughtItem({ message, onChange }) {
  const [text, setText] = useState(/** @type {string | null} */ (null));
  const [to, setTo] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {any} */ (null));

  /** @param {Event} event */
  const toggleText = async (event) => {
    const open = /** @type {HTMLDetailsElement} */ (event.currentTarget).open;
    if (!open || text !== null) return;
    try {
      setText((await get(`/caught-messages/${enc(message.id)}`)).text);
    } catch (err) {
      setError(err);
    }
  };

  /** @param {Event} event */
  const forward = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await post(`/caught-messages/${enc(message.id)}/forward`, { to: to.trim() });
      setTo('');
      await onChange();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    try {
      await del(`/caught-messages/${enc(message.id)}`);
      await onChange();
    } catch (err) {
      setError(err);
    }
  };

  const fieldId = `forward-${message.id}`;
  return html`<li class="caught-item" data-caught=${message.id}>
    <div class="caught-head">
      <div>
        <h3 class="caught-subject">${message.subject || '(no subject)'}</h3>
        <p class="muted small">From <${Address} value=${message.from || message.mailFrom} /> to <${Address} value=${message.recipient} />${', '}<${Time} value=${message.receivedAt}>${formatRelative(message.receivedAt)}<//> · deleted ${formatDateTime(message.expiresAt)}</p>
      </div>
      <${ConfirmButton} label="Delete" question="Delete this message?" confirmLabel="Delete" onConfirm=${remove} />
    </div>
    ${message.code ? html`<div class="caught-code">
      <div class="copy-field-label">Confirmation code</div>
      <div class="copy-field-row"><code class="caught-code-value mono" data-testid="confirmation-code">${message.code}</code><${CopyButton} value=${message.code} label="confirmation code" /></div>
    </div>` : null}
    ${message.link ? html`<div class="caught-link">
      <div class="copy-field-label">Confirmation link</div>
      <div class="copy-field-row"><a class="copy-field-value mono" href=${message.link} target="_blank" rel="noopener noreferrer" data-testid="confirmation-link">${message.link}</a><${CopyButton} value=${message.link} label="confirmation link" compact /></div>
    </div>` : null}
    ${!message.code && !message.link ? html`<p class="small muted">No confirmation code or link recognised: read the message below.</p>` : null}
    <details class="caught-text" onToggle=${toggleText}>
      <summary>Show the message</summary>
      ${text === null ? html`<${Loading} />` : html`<pre class="caught-body">${text}</pre>`}
    </details>
    ${message.forwarded ? html`<p class="small"><${Badge} tone="ok">Forwarded<//> to <span class="mono">${message.forwarded.to}</span> ${formatRelative(message.forwarded.at)}</p>` : null}
    <form class="inline-form" onSubmit=${forward}>
      <${Field} id=${fieldId} label="Forward to" hint="Sent as a new message from the address it was caught for, with the original attached." error=${error?.field === 'to' ? error.message : null}>
        <input id=${fieldId} type="email" required placeholder="you@gmail.com" value=${to} onInput=${(/** @type {any} */ e) => setTo(e.currentTarget.value)} />
      <//>
      <button type="submit" class="btn" disabled=${busy}>${busy ? 'Forwarding…' : 'Forward'}</button>
    </form>
    ${error && error.field !== 'to' ? html`<${ErrorNotice} error=${error} />` : null}
  </li>`;
}
