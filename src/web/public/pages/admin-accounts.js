// Administration: every account, creating one (its password and first secret
// key shown once), and changing an account's daily limit in place.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { enc, patch, post } from '../lib/api.js';
import { useApi } from '../lib/use-api.js';
import { formatDateTime, formatNumber } from '../lib/format.js';
import { Address, Badge, Card, CopyField, EmptyState, ErrorNotice, Field, Loading, PageHeader, Time } from '../components/ui.js';

export function AccountsPage() {
  const accounts = useApi('/admin/accounts');
  const [created, setCreated] = useState(/** @type {any} */ (null));
  /** @type {any[]} */
  const list = accounts.data?.items ?? [];
  return html`
    <${PageHeader} section="Administration" title="Accounts" description="Who may send through this Mailroom, and how much each may send per 24 hours." />
    <${CreateAccount} onCreated=${async (/** @type {any} */ result) => { setCreated(result); await accounts.reload(); }} />
    ${created ? html`<${CreatedAccount} result=${created} onDone=${() => setCreated(null)} />` : null}
    <${ErrorNotice} error=${accounts.error} />
    <${Card} class="card-flush" title="All accounts">
      ${accounts.loading && !accounts.data ? html`<${Loading} />`
        : list.length === 0 ? html`<${EmptyState} title="No accounts yet" />`
        : html`<div class="table-wrap"><table class="table accounts-table" aria-label="Accounts">
          <thead><tr><th scope="col">Email</th><th scope="col">Daily limit</th><th scope="col" class="num">Sent (24 h)</th><th scope="col">Created</th><th scope="col">Dashboard password</th></tr></thead>
          <tbody>${list.map((/** @type {any} */ a) => html`<${AccountRow} key=${a.id} account=${a} onChanged=${accounts.reload} />`)}</tbody>
        </table></div>`}
    <//>
  `;
}

/** @param {{ onCreated: (result: any) => Promise<void> }} props */
function CreateAccount({ onCreated }) {
  const [email, setEmail] = useState('');
  const [limit, setLimit] = useState('1000');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {any} */ (null));

  /** @param {Event} event */
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      /** @type {Record<string, unknown>} */
      const body = { email: email.trim(), dailyLimit: Number(limit) };
      if (password) body.password = password;
      const result = await post('/admin/accounts', body);
      setEmail('');
      setPassword('');
      await onCreated({ ...result, chosenPassword: password || null });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const fieldError = (/** @type {string} */ name) => (error?.field === name ? error.message : null);
  return html`<${Card} title="Create an account">
    <form class="form-grid" onSubmit=${submit}>
      <${Field} id="new-email" label="Email" hint="Also the SMTP username." error=${fieldError('email')}>
        <input id="new-email" type="email" required value=${email} onInput=${(/** @type {any} */ e) => setEmail(e.currentTarget.value)} />
      <//>
      <${Field} id="new-limit" label="Daily limit" hint="Emails per rolling 24 hours." error=${fieldError('dailyLimit')}>
        <input id="new-limit" type="number" min="1" step="1" required value=${limit} onInput=${(/** @type {any} */ e) => setLimit(e.currentTarget.value)} />
      <//>
      <${Field} id="new-password" label="Dashboard password (optional)" hint="Leave empty to generate one." error=${fieldError('password')}>
        <input id="new-password" type="text" minlength="8" autocomplete="new-password" value=${password} onInput=${(/** @type {any} */ e) => setPassword(e.currentTarget.value)} />
      <//>
      <div class="form-grid-actions"><button type="submit" class="btn btn-primary" disabled=${busy}>${busy ? 'Creating…' : 'Create account'}</button></div>
    </form>
    ${error && !['email', 'dailyLimit', 'password'].includes(error.field) ? html`<${ErrorNotice} error=${error} />` : null}
  <//>`;
}

/** @param {{ result: any, onDone: () => void }} props */
function CreatedAccount({ result, onDone }) {
  const account = result.account;
  const password = result.password ?? result.chosenPassword;
  const secret = result.key.secret;
  const ref = useRef(/** @type {HTMLDivElement | null} */ (null));
  useEffect(() => ref.current?.focus(), []);
  return html`<div class="reveal" ref=${ref} tabindex="-1" role="region" aria-label="New account credentials">
    <div class="reveal-head"><strong>Account ${account.email} created</strong>
      <span class="muted small">Send these to the account’s owner now: they are not shown again.</span></div>
    <div class="fields">
      <${CopyField} label="Dashboard login" value=${account.email} testId="new-account-email" />
      ${password ? html`<${CopyField} label="Dashboard password" value=${password} testId="new-account-password" />` : null}
      <${CopyField} label="First secret key (SMTP password / API token)" value=${secret} testId="new-account-key" />
    </div>
    <button type="button" class="btn btn-sm" onClick=${onDone}>Done</button>
  </div>`;
}

/** @param {{ account: any, onChanged: () => Promise<void> }} props */
function AccountRow({ account, onChanged }) {
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState(String(account.dailyLimit));
  const [error, setError] = useState(/** @type {any} */ (null));
  const [busy, setBusy] = useState(false);
  const input = useRef(/** @type {HTMLInputElement | null} */ (null));
  useEffect(() => { if (editing) input.current?.select(); }, [editing]);

  /** @param {Event} event */
  const save = async (event) => {
    event.preventDefault();
    setBusy(true);
    try {
      await patch(`/admin/accounts/${enc(account.id)}`, { dailyLimit: Number(value) });
      setEditing(false);
      setError(null);
      await onChanged();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const inputId = `limit-${account.id}`;
  return html`<tr data-account=${account.email}>
    <td data-label="Email"><span><${Address} class="strong" value=${account.email} /> ${account.isAdmin ? html`<${Badge} tone="info">Admin<//>` : null}</span></td>
    <td data-label="Daily limit">${editing
      ? html`<form class="limit-form" onSubmit=${save}>
          <label for=${inputId} class="sr-only">Daily limit for ${account.email}</label>
          <input id=${inputId} ref=${input} type="number" min="1" step="1" required value=${value} class="input-sm"
            onInput=${(/** @type {any} */ e) => setValue(e.currentTarget.value)}
            onKeyDown=${(/** @type {KeyboardEvent} */ e) => { if (e.key === 'Escape') { setEditing(false); setValue(String(account.dailyLimit)); } }} />
          <button type="submit" class="btn btn-primary btn-sm" disabled=${busy}>Save</button>
          <button type="button" class="btn btn-sm" onClick=${() => { setEditing(false); setValue(String(account.dailyLimit)); setError(null); }}>Cancel</button>
          ${error ? html`<div class="field-error" role="alert">${error.message}</div>` : null}
        </form>`
      : html`<span class="limit-view"><span class="num">${formatNumber(account.dailyLimit)}</span>
          <button type="button" class="btn btn-ghost btn-sm" onClick=${() => setEditing(true)} aria-label=${`Edit daily limit of ${account.email}`}>Edit</button></span>`}</td>
    <td data-label="Sent (24 h)" class="num">${formatNumber(account.sentLast24h)}</td>
    <td data-label="Created"><${Time} value=${account.createdAt}>${formatDateTime(account.createdAt)}<//></td>
    <td data-label="Dashboard password"><${ResetPassword} account=${account} /></td>
  </tr>`;
}

/**
 * The login page tells users who forgot their password to ask an
 * administrator: this is what the administrator does. A new password is
 * generated and shown once; the account's dashboard sessions end.
 * @param {{ account: any }} props
 */
function ResetPassword({ account }) {
  const [confirming, setConfirming] = useState(false);
  const [password, setPassword] = useState(/** @type {string | null} */ (null));
  const [error, setError] = useState(/** @type {any} */ (null));
  const [busy, setBusy] = useState(false);
  const reset = async () => {
    setBusy(true);
    setError(null);
    try {
      const result = await post(`/admin/accounts/${enc(account.id)}/password`, {});
      setPassword(result.password);
      setConfirming(false);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  if (password) {
    return html`<div class="stack-sm">
      <${CopyField} label=${`New password for ${account.email} (shown only now)`} value=${password} testId="reset-password-value" />
      <button type="button" class="btn btn-sm" onClick=${() => setPassword(null)}>Done</button>
    </div>`;
  }
  if (confirming) {
    return html`<span class="limit-view">
      <button type="button" class="btn btn-primary btn-sm" disabled=${busy} onClick=${reset}>${busy ? 'Resetting…' : 'Yes, reset it'}</button>
      <button type="button" class="btn btn-sm" onClick=${() => setConfirming(false)}>Cancel</button>
      ${error ? html`<div class="field-error" role="alert">${error.message}</div>` : null}
    </span>`;
  }
  return html`<button type="button" class="btn btn-ghost btn-sm" onClick=${() => setConfirming(true)}
    aria-label=${`Reset the dashboard password of ${account.email}`}>Reset…</button>`;
}
