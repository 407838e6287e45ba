// The building blocks every page uses, so pages read as what they show.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { copyText } from '../lib/clipboard.js';
import { statusInfo } from '../lib/format.js';
import { CheckIcon, CopyIcon, InfoIcon, WarnIcon } from './icons.js';

/**
 * Copies a value; says "Copied" for a moment (also to screen readers).
 * @param {{ value: string, label?: string, compact?: boolean }} props
 */
export function CopyButton({ value, label = 'value', compact = false }) {
  const [state, setState] = useState(/** @type {'idle' | 'copied' | 'failed'} */ ('idle'));
  const timer = useRef(/** @type {number | undefined} */ (undefined));
  useEffect(() => () => clearTimeout(timer.current), []);
  const onClick = async () => {
    const ok = await copyText(value);
    setState(ok ? 'copied' : 'failed');
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setState('idle'), 2000);
  };
  const text = state === 'copied' ? 'Copied' : state === 'failed' ? 'Select and copy' : 'Copy';
  return html`<button type="button" class=${`btn btn-copy ${compact ? 'btn-sm' : ''} ${state === 'copied' ? 'is-copied' : ''}`}
      onClick=${onClick} aria-label=${state === 'idle' ? `Copy ${label}` : undefined} data-copy=${label}>
    ${state === 'copied' ? html`<${CheckIcon} />` : html`<${CopyIcon} />`}<span aria-live="polite">${text}</span>
  </button>`;
}

/**
 * An email address that wraps only before its "@" (a very long part still breaks as a last
 * resort): table columns then keep addresses readable instead of breaking them at any letter.
 * @param {{ value: string | null | undefined, class?: string }} props
 */
export function Address({ value, class: className = '' }) {
  if (!value) return html`<span class="muted">—</span>`;
  const parts = value.split(/(?=@)/);
  return html`<span class=${`address ${className}`} title=${value}>${parts.map((part, i) => html`${i > 0 ? html`<wbr />` : null}${part}`)}</span>`;
}

/**
 * A labelled value with a copy button, e.g. "SMTP server  mail.example.com  [Copy]".
 * @param {{ label: string, value: string, mono?: boolean, hint?: any, testId?: string }} props
 */
export function CopyField({ label, value, mono = true, hint, testId }) {
  return html`<div class="copy-field" data-field=${testId}>
    <div class="copy-field-label">${label}</div>
    <div class="copy-field-row">
      <code class=${mono ? 'copy-field-value mono' : 'copy-field-value'} data-value=${testId}>${value}</code>
      <${CopyButton} value=${value} label=${label} compact />
    </div>
    ${hint ? html`<div class="copy-field-hint">${hint}</div>` : null}
  </div>`;
}

/** @param {{ status: string, title?: string }} props */
export function StatusBadge({ status, title }) {
  const info = statusInfo(status);
  return html`<span class=${`badge badge-${info.tone}`} title=${title ?? info.help} data-status=${status}>${info.label}</span>`;
}

/** @param {{ tone: string, children: any }} props */
export function Badge({ tone, children }) {
  return html`<span class=${`badge badge-${tone}`}>${children}</span>`;
}

/**
 * @param {{ kind?: 'info' | 'warn' | 'error' | 'ok', title?: string, children?: any }} props
 */
export function Notice({ kind = 'info', title, children }) {
  const Icon = kind === 'info' || kind === 'ok' ? InfoIcon : WarnIcon;
  return html`<div class=${`notice notice-${kind}`} role=${kind === 'error' ? 'alert' : undefined}>
    <${Icon} />
    <div class="notice-body">${title ? html`<strong class="notice-title">${title}</strong>` : null}<div class="notice-text">${children}</div></div>
  </div>`;
}

/** @param {{ error: any }} props */
export function ErrorNotice({ error }) {
  if (!error) return null;
  return html`<${Notice} kind="error">${error.message || String(error)}<//>`;
}

/** `section`: the menu heading the page sits under ("Settings"), shown above its title. @param {{ title: string, description?: any, actions?: any, back?: any, section?: string }} props */
export function PageHeader({ title, description, actions, back, section }) {
  return html`<header class="page-header">
    ${back ? html`<div class="page-back">${back}</div>` : null}
    ${section && !back ? html`<div class="page-section" data-testid="page-section">${section}</div>` : null}
    <div class="page-header-row">
      <div>
        <h1>${title}</h1>
        ${description ? html`<p class="page-description">${description}</p>` : null}
      </div>
      ${actions ? html`<div class="page-actions">${actions}</div>` : null}
    </div>
  </header>`;
}

/** @param {{ title?: any, description?: any, actions?: any, children?: any, id?: string, class?: string }} props */
export function Card({ title, description, actions, children, id, class: extra = '' }) {
  const headingId = id ? `${id}-title` : undefined;
  return html`<section class=${`card ${extra}`} id=${id} aria-labelledby=${title ? headingId : undefined}>
    ${title ? html`<div class="card-header">
      <div><h2 id=${headingId}>${title}</h2>${description ? html`<p class="card-description">${description}</p>` : null}</div>
      ${actions ? html`<div class="card-actions">${actions}</div>` : null}
    </div>` : null}
    ${children}
  </section>`;
}

/** @param {{ label?: string }} props */
export function Loading({ label = 'Loading…' }) {
  return html`<div class="loading" role="status"><span class="spinner" aria-hidden="true"></span>${label}</div>`;
}

/** @param {{ title: string, children?: any }} props */
export function EmptyState({ title, children }) {
  return html`<div class="empty"><p class="empty-title">${title}</p>${children ? html`<div class="empty-body">${children}</div>` : null}</div>`;
}

/**
 * A labelled form control with its own error, wired for screen readers.
 * @param {{ id: string, label: string, hint?: any, error?: string | null, children: any, class?: string }} props
 */
export function Field({ id, label, hint, error, children, class: extra = '' }) {
  return html`<div class=${`field ${error ? 'has-error' : ''} ${extra}`}>
    <label for=${id}>${label}</label>
    ${children}
    ${hint ? html`<div class="field-hint" id=${`${id}-hint`}>${hint}</div>` : null}
    ${error ? html`<div class="field-error" id=${`${id}-error`}>${error}</div>` : null}
  </div>`;
}

/**
 * A destructive action that asks once more in place, so nothing is lost to a stray click.
 * @param {{ label: string, confirmLabel?: string, question?: string, onConfirm: () => Promise<void> | void, class?: string }} props
 */
export function ConfirmButton({ label, confirmLabel, question = 'Are you sure?', onConfirm, class: extra = '' }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const confirmRef = useRef(/** @type {HTMLButtonElement | null} */ (null));
  useEffect(() => { if (asking) confirmRef.current?.focus(); }, [asking]);
  if (!asking) return html`<button type="button" class=${`btn btn-danger-ghost btn-sm ${extra}`} onClick=${() => setAsking(true)}>${label}</button>`;
  const run = async () => {
    setBusy(true);
    try {
      await onConfirm();
    } finally {
      setBusy(false);
      setAsking(false);
    }
  };
  return html`<span class="confirm" role="group" aria-label=${question}>
    <span class="confirm-question">${question}</span>
    <button type="button" class="btn btn-danger btn-sm" ref=${confirmRef} onClick=${run} disabled=${busy}>${confirmLabel ?? label}</button>
    <button type="button" class="btn btn-sm" onClick=${() => setAsking(false)} disabled=${busy}>Cancel</button>
  </span>`;
}

/** Relative time with the exact time on hover. @param {{ value: any, children: any }} props */
export function Time({ value, children }) {
  return html`<time datetime=${value ? new Date(value).toISOString() : undefined} title=${value ? new Date(value).toLocaleString() : undefined}>${children}</time>`;
}
