// Sign in with the account's email and dashboard password (not a secret key).
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { signIn } from '../lib/session.js';
import { Logo } from '../components/icons.js';
import { Notice } from '../components/ui.js';

/** @param {{ onSignedIn: () => Promise<void> }} props */
export function LoginPage({ onSignedIn }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(/** @type {string | null} */ (null));
  const [busy, setBusy] = useState(false);

  /** @param {Event} event */
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(email.trim(), password);
      await onSignedIn();
    } catch (err) {
      const e = /** @type {any} */ (err);
      setError(e.status === 401 ? 'That email and password do not match an account.' : e.message);
      setBusy(false);
    }
  };

  return html`<div class="login">
    <main class="login-card" aria-labelledby="login-title">
      <div class="login-brand"><${Logo} /><span>Mailroom</span></div>
      <h1 id="login-title">Sign in to your dashboard</h1>
      <p class="login-lead">Use your account email and dashboard password. Your SMTP secret key does not work here.</p>
      ${error ? html`<${Notice} kind="error">${error}<//>` : null}
      <form onSubmit=${submit} class="stack">
        <div class="field">
          <label for="login-email">Email</label>
          <input id="login-email" name="email" type="email" autocomplete="username" required value=${email}
            onInput=${(/** @type {any} */ e) => setEmail(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="login-password">Password</label>
          <input id="login-password" name="password" type="password" autocomplete="current-password" required value=${password}
            onInput=${(/** @type {any} */ e) => setPassword(e.currentTarget.value)} />
        </div>
        <button type="submit" class="btn btn-primary btn-block btn-lg" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
      <p class="login-foot">Forgot the password? Your Mailroom administrator can set a new one.</p>
    </main>
  </div>`;
}
