// The guide's step 7 on one page: where to connect, how, as whom, and with
// which secret key — then the same values walked through Gmail's "Send mail as".
import { html } from 'htm/preact';
import { useSession } from '../lib/session.js';
import { useApi } from '../lib/use-api.js';
import { smtpSettings, usageOf } from '../lib/account.js';
import { formatDateTime } from '../lib/format.js';
import { Link } from '../lib/router.js';
import { Card, CopyButton, CopyField, ErrorNotice, Notice, PageHeader } from '../components/ui.js';
import { SecretKeys } from '../components/secret-keys.js';
import { GmailGuide } from '../components/gmail-guide.js';
import { UsageMeter } from '../components/usage-meter.js';

export function ProfilePage() {
  const session = useSession();
  const { data: account, error } = useApi('/account');
  const domains = useApi('/domains');
  const current = account ?? session.account;
  const smtp = smtpSettings(current);
  const usage = usageOf(current);
  /** @type {{ name: string, verified: boolean }[]} */
  const domainList = domains.data?.items ?? [];

  return html`
    <${PageHeader} section="Settings" title="Profile & SMTP"
      description="Everything an app or Gmail needs to send through Mailroom: the server, the port, your username and a secret key." />
    <${ErrorNotice} error=${error} />
    <${LoginAlerts} notices=${account?.notices ?? []} />
    <div class="grid-2">
      <${Card} title="SMTP credentials" id="smtp" description="Paste these into your mail client, app or Gmail.">
        <div class="fields">
          <${CopyField} label="SMTP server" value=${smtp.host} testId="smtp-host"
            hint=${smtp.hostWarning ? html`<span class="field-warning" data-testid="smtp-host-warning"><strong>Not usable yet.</strong> ${smtp.hostWarning}</span>` : null} />
          <${CopyField} label="Username" value=${smtp.username} testId="smtp-username" hint="Your account email." />
          <div class="copy-field">
            <div class="copy-field-label">Password</div>
            <div class="copy-field-text">A secret key from <a href="#keys">Secret keys</a> below. Never share it.</div>
          </div>
        </div>
        <${PortsTable} ports=${smtp.ports} />
        <${CertificateStatus} smtp=${smtp} />
      <//>
      <${Card} title="Sending limit" id="limit" description="Rolling 24 hours; every recipient counts as one email.">
        <${UsageMeter} usage=${usage} />
        <p class="muted small"><${Link} href="/app/usage">See usage and delivery charts →<//></p>
      <//>
    </div>
    <${SecretKeys} />
    <${GmailGuide} smtp=${smtp} email=${current?.email ?? ''} domains=${domainList} loading=${domains.loading} />
  `;
}

/**
 * Many failed logins for this account (GET /api/v1/account `notices`): the
 * owner hears of them here as well as by webhook (`auth.failures`).
 * @param {{ notices: { type: string, at: string, message: string }[] }} props
 */
function LoginAlerts({ notices }) {
  if (notices.length === 0) return null;
  return html`<div class="login-alerts" data-testid="login-alerts">${notices.map((notice) => html`
    <${Notice} kind="warn" title=${`Failed logins · ${formatDateTime(notice.at)}`}>${notice.message}<//>`)}</div>`;
}

/** @param {{ ports: import('../lib/account.js').SmtpPort[] }} props */
function PortsTable({ ports }) {
  if (ports.length === 0) return html`<${Notice} kind="warn">No SMTP port is open on this server. Ask your administrator.<//>`;
  return html`<div class="table-wrap">
    <table class="table ports-table" aria-label="SMTP ports">
      <thead><tr><th scope="col">Port</th><th scope="col">Connection</th><th scope="col">Use it when</th><th scope="col"><span class="sr-only">Copy</span></th></tr></thead>
      <tbody>${ports.map((p) => html`<tr data-port=${p.port} data-connection=${p.connection}>
        <td data-label="Port" class="mono strong">${p.port}</td>
        <td data-label="Connection">${p.label}</td>
        <td data-label="Use it when" class="muted port-advice">${PORT_ADVICE[p.connection]}${p.connection === 'unsecured'
          ? html` <strong class="clear-text-warning" data-testid="clear-text-warning">Warning: your secret key crosses the network in clear text.</strong>` : null}</td>
        <td class="cell-actions"><${CopyButton} value=${String(p.port)} label=${`port ${p.port}`} compact /></td>
      </tr>`)}</tbody>
    </table>
  </div>`;
}

const PORT_ADVICE = {
  unsecured: 'Only when the client cannot use TLS, or the certificate is not trusted (Gmail with a self-signed certificate).',
  starttls: 'Most apps and libraries: connect in plain text, then upgrade to TLS.',
  ssl: 'TLS from the first byte; Gmail’s “SSL” option.',
};

/** @param {{ smtp: import('../lib/account.js').SmtpSettings }} props */
function CertificateStatus({ smtp }) {
  const cert = smtp.certificate;
  if (!cert) {
    return html`<p class="muted small cert-status">Gmail accepts TLS only with a certificate from a public authority (such as Let’s Encrypt) that matches <span class="mono">${smtp.host}</span>.</p>`;
  }
  if (cert.selfSigned) {
    return html`<${Notice} kind="warn" title="Self-signed certificate">
      This server’s TLS certificate is self-signed, so Gmail and most mail clients refuse STARTTLS and SSL connections to it.
      Until the administrator installs a trusted certificate, use the unsecured port with Gmail.
    <//>`;
  }
  if (cert.gmailAccepts === false) {
    return html`<${Notice} kind="warn" title="Gmail will refuse this certificate">
      ${(cert.problems ?? []).join(' ')} Issued by ${cert.issuer} for ${(cert.names ?? []).join(', ') || cert.subject}.
    <//>`;
  }
  return html`<${Notice} kind="ok" title="Trusted certificate">
    The TLS certificate is signed by a public authority${cert.validTo ? html` and valid until ${formatDateTime(cert.validTo)}` : ''}. Gmail can use STARTTLS or SSL.
  <//>`;
}
