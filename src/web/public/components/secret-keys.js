// Secret keys: the SMTP password and the API's Bearer token. A new key is
// shown exactly once; the list shows only its last characters, what the key may do
// (its scope), how much it sent in 24 hours, and when and from where it was last used.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { del, enc, post } from '../lib/api.js';
import { useApi } from '../lib/use-api.js';
import { formatDateTime, formatNumber, formatRelative } from '../lib/format.js';
import { Badge, Card, ConfirmButton, CopyButton, EmptyState, ErrorNotice, Field, Loading, Notice, Time } from './ui.js';

export function SecretKeys() {
  const keys = useApi('/keys');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {any} */ (null));
  const [revealed, setRevealed] = useState(/** @type {{ secret: string, name: string, rotated?: string } | null} */ (null));
  const [showRevoked, setShowRevoked] = useState(false);

  /** @param {Event} event */
  const create = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = await post('/keys', { name: name.trim() || 'default' });
      setRevealed({ secret: created.secret, name: created.name });
      setName('');
      await keys.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  /** A new key with the same name, then the old one revoked: the new secret works before the old stops. @param {any} key */
  const rotate = async (key) => {
    setError(null);
    try {
      // The new key keeps the old one's scope, so rotating never widens what it may do.
      const created = await post('/keys', { name: key.name, ...scopeBody(key.scope) });
      await del(`/keys/${enc(key.id)}`);
      setRevealed({ secret: created.secret, name: key.name, rotated: key.hint });
      await keys.reload();
    } catch (err) {
      setError(err);
    }
  };

  /** @param {any} key */
  const revoke = async (key) => {
    setError(null);
    try {
      await del(`/keys/${enc(key.id)}`);
      await keys.reload();
    } catch (err) {
      setError(err);
    }
  };

  /** @type {any[]} */
  const all = keys.data?.items ?? [];
  const live = all.filter((k) => !k.revokedAt);
  const shown = showRevoked ? all : live;
  const revokedCount = all.length - live.length;

  return html`<${Card} title="Secret keys" id="keys"
      description="A secret key is your SMTP password and your API token (Authorization: Bearer …). Create one per app so you can revoke them separately.">
    ${revealed ? html`<${RevealedKey} revealed=${revealed} onDone=${() => setRevealed(null)} />` : null}
    <${ErrorNotice} error=${error ?? keys.error} />
    <form class="inline-form" onSubmit=${create} aria-label="Create a secret key">
      <${Field} id="key-name" label="New key name" hint="For example “Gmail” or “billing app”.">
        <input id="key-name" type="text" maxlength="100" placeholder="Gmail" value=${name} aria-describedby="key-name-hint"
          onInput=${(/** @type {any} */ e) => setName(e.currentTarget.value)} />
      <//>
      <button type="submit" class="btn btn-primary" disabled=${busy}>${busy ? 'Creating…' : 'Create secret key'}</button>
    </form>
    ${keys.loading && !keys.data ? html`<${Loading} />`
      : shown.length === 0 ? html`<${EmptyState} title="No live secret keys">Create one above to send over SMTP or call the API.<//>`
      : html`<div class="table-wrap"><table class="table keys-table" aria-label="Secret keys">
        <thead><tr><th scope="col">Name</th><th scope="col">Key</th><th scope="col">Scope</th><th scope="col">Sent (24 h)</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>${shown.map((key) => html`<tr key=${key.id} data-key-id=${key.id} class=${key.revokedAt ? 'is-revoked' : ''}>
          <td data-label="Name" class="strong">${key.name}</td>
          <td data-label="Key" class="mono">mr_${key.hint}</td>
          <td data-label="Scope">${describeScope(key.scope)}</td>
          <td data-label="Sent (24 h)">${formatNumber(key.sentLast24h ?? 0)}</td>
          <td data-label="Created"><${Time} value=${key.createdAt}>${formatDateTime(key.createdAt)}<//></td>
          <td data-label="Last used">${key.lastUsedAt ? html`<${Time} value=${key.lastUsedAt}>${formatRelative(key.lastUsedAt)}<//>${key.lastUsedIp ? html` <span class="muted mono small">from ${key.lastUsedIp}</span>` : null}` : html`<span class="muted">Never</span>`}</td>
          <td class="cell-actions">${key.revokedAt
            ? html`<${Badge} tone="muted">Revoked ${formatRelative(key.revokedAt)}<//>`
            : html`<div class="row-actions">
                <${ConfirmButton} label="Rotate" question=${`Replace “${key.name}”? Apps using it stop working.`} confirmLabel="Rotate now"
                  onConfirm=${() => rotate(key)} class="btn-neutral" />
                <${ConfirmButton} label="Revoke" question=${`Revoke “${key.name}”?`} onConfirm=${() => revoke(key)} />
              </div>`}</td>
        </tr>`)}</tbody>
      </table></div>`}
    ${revokedCount > 0 ? html`<button type="button" class="btn btn-link" onClick=${() => setShowRevoked(!showRevoked)} aria-pressed=${showRevoked}>
      ${showRevoked ? 'Hide revoked keys' : `Show ${revokedCount} revoked key${revokedCount === 1 ? '' : 's'}`}</button>` : null}
  <//>`;
}

/** What a key may do, in a few words; a key without a scope may do all the account may. @param {any} scope */
function describeScope(scope) {
  if (!scope) return 'Full access';
  const parts = [];
  if (scope.from) parts.push(`Sends as ${scope.from.join(', ')}`);
  if (scope.channel === 'smtp') parts.push('SMTP only');
  if (scope.channel === 'api') parts.push('API sending only');
  if (scope.dailyLimit !== null) parts.push(`${formatNumber(scope.dailyLimit)} a day`);
  if (scope.ipRanges) parts.push(`From ${scope.ipRanges.join(', ')}`);
  if (scope.expiresAt) parts.push(`Expires ${formatDateTime(scope.expiresAt)}`);
  return parts.length === 0 ? 'Full access' : parts.join(' · ');
}

/** The create-key body that gives a new key the same scope. @param {any} scope */
function scopeBody(scope) {
  if (!scope) return {};
  return {
    ...(scope.from ? { from: scope.from } : {}), ...(scope.dailyLimit !== null ? { dailyLimit: scope.dailyLimit } : {}),
    channel: scope.channel, ...(scope.ipRanges ? { ipRanges: scope.ipRanges } : {}), ...(scope.expiresAt ? { expiresAt: scope.expiresAt } : {}),
  };
}

/** @param {{ revealed: { secret: string, name: string, rotated?: string }, onDone: () => void }} props */
function RevealedKey({ revealed, onDone }) {
  const ref = useRef(/** @type {HTMLDivElement | null} */ (null));
  useEffect(() => { ref.current?.focus(); }, [revealed.secret]);
  return html`<div class="reveal" ref=${ref} tabindex="-1" role="region" aria-label="Your new secret key">
    <div class="reveal-head">
      <strong>${revealed.rotated !== undefined ? `“${revealed.name}” rotated — here is its new secret key` : `Secret key “${revealed.name}” created`}</strong>
      <span class="muted small">Copy it now: Mailroom stores only a fingerprint and cannot show it again.</span>
    </div>
    <div class="reveal-row">
      <code class="mono reveal-secret" data-testid="new-secret">${revealed.secret}</code>
      <${CopyButton} value=${revealed.secret} label="secret key" />
    </div>
    ${revealed.rotated !== undefined ? html`<${Notice} kind="warn">The old key no longer works. Update every app and Gmail account that used it.<//>` : null}
    <button type="button" class="btn btn-sm" onClick=${onDone}>I have copied it</button>
  </div>`;
}
