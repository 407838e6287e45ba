// The Send-As doctor: connects to our SMTP ports the way Gmail does with a key
// the user pastes, and lists recent SMTP sessions with why the failed ones failed —
// so "Gmail says something went wrong" becomes a named step to fix.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { post } from '../lib/api.js';
import { useApi } from '../lib/use-api.js';
import { formatDateTime } from '../lib/format.js';
import { Badge, Card, EmptyState, ErrorNotice, Field, Loading, Notice, PageHeader, Time } from '../components/ui.js';
import { RefreshIcon } from '../components/icons.js';

/** What each check step means, in the words of someone setting up Gmail. */
const STEP_LABELS = /** @type {Record<string, string>} */ ({
  connect: 'Reach the server',
  tls: 'Start TLS',
  'certificate-trusted': 'Certificate is trusted',
  'name-matches': 'Certificate matches the server name',
  auth: 'Sign in with your secret key',
  sender: 'Sender address is allowed',
});

const STEP_TONES = /** @type {Record<string, {badge: string, dot: string, label: string}>} */ ({
  passed: { badge: 'ok', dot: 'timeline-ok', label: 'Passed' },
  failed: { badge: 'bad', dot: 'timeline-bad', label: 'Failed' },
  skipped: { badge: 'muted', dot: '', label: 'Skipped' },
});

export function DoctorPage() {
  return html`
    <${PageHeader} section="Settings" title="Send-As doctor"
      description="Gmail only says “something went wrong”. The doctor connects the way Gmail does and names the step that fails." />
    <${CheckCard} />
    <${SessionsCard} />
  `;
}

function CheckCard() {
  const [key, setKey] = useState('');
  const [from, setFrom] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(/** @type {any} */ (null));
  const [report, setReport] = useState(/** @type {any} */ (null));

  /** @param {Event} event */
  const check = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = from.trim() ? { key: key.trim(), from: from.trim() } : { key: key.trim() };
      setReport(await post('/doctor/check', body));
    } catch (err) {
      setReport(null);
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return html`<${Card} title="Check my settings" id="check"
      description="Paste the secret key you gave Gmail as the password. It is used for this one check and not stored.">
    <form class="inline-form" onSubmit=${check} aria-describedby="check-title">
      <${Field} id="doctor-key" label="Secret key" error=${error?.field === 'key' ? error.message : null}>
        <input id="doctor-key" type="password" required autocomplete="off" spellcheck=${false} placeholder="mr_…" value=${key}
          onInput=${(/** @type {any} */ e) => setKey(e.currentTarget.value)} />
      <//>
      <${Field} id="doctor-from" label="Sender address (optional)" hint="The “Send mail as” address, to check it may send."
        error=${error?.field === 'from' ? error.message : null}>
        <input id="doctor-from" type="email" placeholder="you@your-domain.example" value=${from}
          onInput=${(/** @type {any} */ e) => setFrom(e.currentTarget.value)} />
      <//>
      <button type="submit" class="btn btn-primary" disabled=${busy}>${busy ? 'Checking…' : 'Run the check'}</button>
    </form>
    ${error && error.field !== 'key' && error.field !== 'from' ? html`<${ErrorNotice} error=${error} />` : null}
    ${busy ? html`<${Loading} label="Connecting as Gmail would…" />` : null}
    ${report && !busy ? html`<${CheckReport} report=${report} />` : null}
  <//>`;
}

const CLEAR_TEXT_WARNING = 'Not encrypted: on this connection your secret key crosses the network in clear text. Use it only when SSL and STARTTLS cannot work.';

/** @param {{ report: any }} props */
function CheckReport({ report }) {
  return html`<div class="stack" data-testid="doctor-report" aria-live="polite">
    <${Notice} kind=${report.ok ? 'ok' : 'error'} title=${report.ok ? 'These settings work' : 'Something needs fixing'}>
      ${report.summary}
    <//>
    ${report.connections.map((/** @type {any} */ c) => html`<section class="recipient" key=${`${c.port} ${c.connection}`} data-port=${c.port} data-connection=${c.connection}
        aria-label=${`Port ${c.port}, ${c.gmailLabel}`}>
      <div class="recipient-head">
        <h3 class="subheading">Port <span class="mono">${c.port}</span> · ${c.gmailLabel}</h3>
        <${Badge} tone=${c.ok ? 'ok' : 'bad'}>${c.ok ? 'Works' : 'Fails'}<//>
      </div>
      ${c.connection === 'unsecured' ? html`<p class="small clear-text-warning" data-testid="clear-text-warning">${CLEAR_TEXT_WARNING}</p>` : null}
      <ol class="timeline">${c.steps.map((/** @type {any} */ s) => {
        const tone = STEP_TONES[s.status] ?? STEP_TONES.skipped;
        return html`<li class=${`timeline-item ${tone.dot}`} key=${s.step} data-step=${s.step} data-status=${s.status}>
          <span class="timeline-dot" aria-hidden="true"></span>
          <div class="timeline-body">
            <div class="timeline-head"><strong>${STEP_LABELS[s.step] ?? s.step}</strong><${Badge} tone=${tone.badge}>${tone.label}<//></div>
            <div class=${s.status === 'skipped' ? 'muted small' : ''}>${s.words}</div>
            ${s.detail && s.status === 'failed' ? html`<details class="record-found"><summary>What the server said</summary>
              <p class="mono small break">${s.detail}</p></details>` : null}
          </div>
        </li>`;
      })}</ol>
    </section>`)}
  </div>`;
}

function SessionsCard() {
  const list = useApi('/doctor/sessions');
  /** @type {any[]} */
  const sessions = list.data?.sessions ?? [];
  /** @type {any[]} */
  const tlsFailures = list.data?.tlsFailures ?? [];
  const reload = html`<button type="button" class="btn" onClick=${list.reload} disabled=${list.loading}><${RefreshIcon} /><span>Refresh</span></button>`;
  return html`
    <${ErrorNotice} error=${list.error} />
    <${Card} title="Recent SMTP sessions" id="sessions" class="card-flush" actions=${reload}
      description="Every login to the SMTP ports with your account, newest first — including the ones Gmail made while you set it up.">
      ${list.loading && !list.data ? html`<${Loading} />`
        : sessions.length === 0 ? html`<${EmptyState} title="No SMTP sessions yet">When Gmail or an app connects and signs in as you, it shows up here.<//>`
        : html`<div class="table-wrap"><table class="table" aria-label="Recent SMTP sessions">
          <thead><tr>
            <th scope="col">Time</th><th scope="col">Client</th><th scope="col">Listener</th><th scope="col">TLS</th>
            <th scope="col">SNI</th><th scope="col">Login</th><th scope="col">Result</th><th scope="col">Problem</th>
          </tr></thead>
          <tbody>${sessions.map((s, i) => html`<tr key=${`${s.at}-${i}`} data-result=${s.result}>
            <td data-label="Time"><${Time} value=${s.at}>${formatDateTime(s.at)}<//></td>
            <td data-label="Client" class="mono">${s.clientIp}</td>
            <td data-label="Listener">${s.listener}</td>
            <td data-label="TLS">${s.tls ? html`${s.tls.version}${s.tls.cipher ? html`<div class="muted small mono break">${s.tls.cipher}</div>` : null}` : html`<span class="muted">None</span>`}</td>
            <td data-label="SNI" class="mono break">${s.sni ?? html`<span class="muted">—</span>`}</td>
            <td data-label="Login">${s.auth ? html`${s.auth.mechanism}${s.auth.user ? html`<div class="muted small break">${s.auth.user}</div>` : null}` : html`<span class="muted">No login</span>`}</td>
            <td data-label="Result"><${Badge} tone=${s.result === 'ok' ? 'ok' : 'bad'}>${s.result === 'ok' ? 'OK' : 'Failed'}<//>${s.messages > 0 ? html`<div class="muted small">${s.messages} sent</div>` : null}</td>
            <td data-label="Problem">${s.problem ? s.problem.words : html`<span class="muted">—</span>`}</td>
          </tr>`)}</tbody>
        </table></div>`}
    <//>
    ${tlsFailures.length > 0 ? html`<${Card} title="Failed TLS handshakes" id="tls-failures" class="card-flush"
        description="Connections that broke off during TLS, before any login — often a client refusing the certificate.">
      <div class="table-wrap"><table class="table" aria-label="Failed TLS handshakes">
        <thead><tr><th scope="col">Time</th><th scope="col">Listener</th><th scope="col">Client</th><th scope="col">TLS</th><th scope="col">Problem</th></tr></thead>
        <tbody>${tlsFailures.map((f, i) => html`<tr key=${`${f.at}-${i}`}>
          <td data-label="Time"><${Time} value=${f.at}>${formatDateTime(f.at)}<//></td>
          <td data-label="Listener">${f.listener}</td>
          <td data-label="Client" class="mono">${f.clientIp ?? html`<span class="muted">Hidden</span>`}</td>
          <td data-label="TLS">${f.tlsVersion ?? html`<span class="muted">—</span>`}</td>
          <td data-label="Problem">${f.problem.words}</td>
        </tr>`)}</tbody>
      </table></div>
    <//>` : null}
  `;
}
