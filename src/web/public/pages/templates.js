// Templates: the account's stored message templates (Liquid), with an editor
// whose live preview renders on the server — the same sandboxed engine, the
// same errors with line and column — as the user types. The HTML preview
// sits in an iframe sandboxed without scripts, so a template cannot run code
// in the dashboard.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { enc, get, post, request } from '../lib/api.js';
import { useApi } from '../lib/use-api.js';
import { Badge, Card, EmptyState, ErrorNotice, Field, Loading, Notice, PageHeader } from '../components/ui.js';

const BLANK = { name: '', subject: '', text: '', html: '', variables: '{\n  "name": "Ann"\n}' };
const PREVIEW_DELAY_MS = 300;

export function TemplatesPage() {
  const list = useApi('/templates');
  const [form, setForm] = useState(BLANK);
  const [editing, setEditing] = useState(/** @type {string | null} */ (null));
  const [preview, setPreview] = useState(/** @type {any} */ (null));
  const [problem, setProblem] = useState(/** @type {any} */ (null));
  const [saved, setSaved] = useState(/** @type {string | null} */ (null));
  const [error, setError] = useState(/** @type {any} */ (null));
  const [busy, setBusy] = useState(false);
  const timer = useRef(/** @type {any} */ (null));

  /** @param {keyof typeof BLANK} key */
  const bind = (key) => ({ value: form[key], onInput: (/** @type {any} */ e) => { setSaved(null); setForm((f) => ({ ...f, [key]: e.currentTarget.value })); } });

  useEffect(() => {
    clearTimeout(timer.current);
    timer.current = setTimeout(async () => {
      let variables;
      try {
        variables = form.variables.trim() === '' ? {} : JSON.parse(form.variables);
      } catch {
        setProblem({ field: 'variables', message: 'Sample variables must be a JSON object, e.g. {"name": "Ann"}' });
        return;
      }
      if (form.text === '' && form.html === '') { setPreview(null); setProblem(null); return; }
      try {
        setPreview(await post('/templates/preview', { subject: form.subject, text: form.text || null, html: form.html || null, variables }));
        setProblem(null);
      } catch (err) {
        setProblem(err);
      }
    }, PREVIEW_DELAY_MS);
    return () => clearTimeout(timer.current);
  }, [form.subject, form.text, form.html, form.variables]);

  /** @param {string} name */
  const open = async (name) => {
    setError(null);
    setSaved(null);
    try {
      const t = await get(`/templates/${enc(name)}`);
      setEditing(name);
      setForm((f) => ({ ...f, name: t.name, subject: t.subject, text: t.text ?? '', html: t.html ?? '' }));
    } catch (err) {
      setError(err);
    }
  };

  /** @param {Event} event */
  const save = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const content = { subject: form.subject, text: form.text || null, html: form.html || null };
    try {
      const t = editing
        ? await request('PUT', `/templates/${enc(editing)}`, content)
        : await post('/templates', { name: form.name.trim(), ...content });
      setEditing(t.name);
      setSaved(`Saved ${t.name}, version ${t.version}.`);
      await list.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const fieldError = (/** @type {string} */ name) => (error?.field === name ? error.message : problem?.field === name ? problem.message : null);
  const items = list.data?.items ?? [];
  return html`
    <${PageHeader} title="Templates"
      description="Subject and bodies in Liquid: {{ name }} prints a variable, and HTML output is escaped. Send with template and variables in POST /api/v1/messages." />
    <${ErrorNotice} error=${list.error} />
    <${Card} class="card-flush" title="Your templates">
      ${list.loading && !list.data ? html`<${Loading} />`
        : items.length === 0 ? html`<${EmptyState} title="No templates yet">Write one below; the preview follows as you type.<//>`
        : html`<div class="table-wrap"><table class="table" aria-label="Templates">
          <thead><tr><th scope="col">Name</th><th scope="col">Version</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>${items.map((t) => html`<tr key=${t.name}>
            <td data-label="Name" class="mono">${t.name}</td>
            <td data-label="Version"><${Badge} tone="muted">v${t.currentVersion}<//></td>
            <td class="cell-actions"><button type="button" class="btn" onClick=${() => open(t.name)}>Edit ${t.name}</button></td>
          </tr>`)}</tbody>
        </table></div>`}
    <//>
    <div class="grid-2">
      <${Card} title=${editing ? `Edit ${editing} (saving adds a version)` : 'New template'}>
        <form onSubmit=${save}>
          ${editing ? null : html`<${Field} id="template-name" label="Name" error=${fieldError('name')}>
            <input id="template-name" required pattern="[A-Za-z0-9][A-Za-z0-9._\\-]{0,99}" ...${bind('name')} />
          <//>`}
          <${Field} id="template-subject" label="Subject" error=${fieldError('subject')}><input id="template-subject" required ...${bind('subject')} /><//>
          <${Field} id="template-text" label="Text body" error=${fieldError('text')}><textarea id="template-text" rows="5" class="mono" ...${bind('text')}></textarea><//>
          <${Field} id="template-html" label="HTML body" error=${fieldError('html')}><textarea id="template-html" rows="8" class="mono" ...${bind('html')}></textarea><//>
          <${Field} id="template-variables" label="Sample variables (JSON)" hint="Used only for the preview." error=${problem?.field?.startsWith('variables') ? problem.message : null}>
            <textarea id="template-variables" rows="4" class="mono" ...${bind('variables')}></textarea>
          <//>
          ${error && !['name', 'subject', 'text', 'html'].includes(error.field) ? html`<${ErrorNotice} error=${error} />` : null}
          ${saved ? html`<${Notice} kind="ok" title=${saved} />` : null}
          <button type="submit" class="btn btn-primary" disabled=${busy}>${busy ? 'Saving…' : editing ? 'Save new version' : 'Create template'}</button>
          ${editing ? html` <button type="button" class="btn" onClick=${() => { setEditing(null); setForm(BLANK); setSaved(null); }}>New template</button>` : null}
        </form>
      <//>
      <${Card} title="Preview">
        <div aria-live="polite" data-testid="template-preview">
          ${problem ? html`<${Notice} kind="error" title="Cannot render">${problem.message}<//>`
            : !preview ? html`<p class="muted">Write a subject and a body to see them rendered.</p>`
            : html`<p><strong>Subject:</strong> <span data-testid="preview-subject">${preview.subject}</span></p>
              ${preview.text !== undefined ? html`<pre class="mono" data-testid="preview-text">${preview.text}</pre>` : null}
              ${preview.html !== undefined ? html`<iframe title="HTML preview" sandbox="" srcdoc=${preview.html} style="width:100%;min-height:16rem;border:1px solid #ddd;background:#fff"></iframe>` : null}`}
        </div>
      <//>
    </div>
  `;
}
