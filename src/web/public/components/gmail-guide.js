// Gmail "Send mail as", step by step, with this account's own values in place
// of the blanks a generic guide would leave.
import { html } from 'htm/preact';
import { Link } from '../lib/router.js';
import { gmailChoice } from '../lib/account.js';
import { Card, CopyField, Notice } from './ui.js';

/**
 * @param {{ smtp: import('../lib/account.js').SmtpSettings, email: string, domains: { name: string, verified: boolean }[], loading: boolean }} props
 */
export function GmailGuide({ smtp, email, domains, loading }) {
  const choice = gmailChoice(smtp);
  const verified = domains.filter((d) => d.verified);
  const selfSigned = smtp.certificate?.selfSigned !== false;
  const example = verified[0] ? `you@${verified[0].name}` : 'you@your-domain.com';

  // htm drops the whitespace between lines, so the certificate notice's sentences carry their own spaces.
  return html`<${Card} title="Send from Gmail with “Send mail as”" id="gmail"
      description="Gmail keeps your inbox; Mailroom sends the mail, signed for your domain.">
    ${!loading && verified.length === 0 ? html`<${Notice} kind="warn" title="First, verify a sending domain">
      Gmail can only send through Mailroom from an address on a verified domain. <${Link} href="/app/domains">Add and verify a domain<//>.
    <//>` : null}
    <ol class="steps">
      <li><span>Open Gmail, then <strong>Settings</strong> (the gear) → <strong>See all settings</strong> → <strong>Accounts and Import</strong>.</span></li>
      <li><span>In <strong>Send mail as</strong>, choose <strong>Add another email address</strong>.</span></li>
      <li><span>Enter your name and an address on ${verified.length > 0
        ? html`a verified domain (${verified.map((d, i) => html`${i > 0 ? ', ' : ''}<span class="mono">${d.name}</span>`)})`
        : 'a domain you verified in Mailroom'}, for example <span class="mono">${example}</span>. Click <strong>Next Step</strong>.</span></li>
      <li>
        <span>Fill in the SMTP fields with these values:</span>
        <div class="fields fields-compact gmail-values">
          <${CopyField} label="SMTP Server" value=${smtp.host} testId="gmail-host"
            hint=${smtp.hostWarning ? html`<span class="field-warning"><strong>Not usable yet:</strong> Gmail cannot reach this name. Ask your administrator to set MAILROOM_HOSTNAME.</span>` : null} />
          <${CopyField} label="Port" value=${choice ? String(choice.port) : '—'} testId="gmail-port" />
          <${CopyField} label="Username" value=${smtp.username || email} testId="gmail-username" />
          <div class="copy-field">
            <div class="copy-field-label">Password</div>
            <div class="copy-field-text">A secret key — <a href="#keys">create one named “Gmail”</a> so you can revoke it alone.</div>
          </div>
          <div class="copy-field">
            <div class="copy-field-label">Connection</div>
            <div class="copy-field-text strong" data-value="gmail-connection">${choice ? choice.gmail : '—'}</div>
          </div>
        </div>
      </li>
      <li><span>Click <strong>Add Account</strong>. Gmail connects and signs in with these values right away; an error here names the field to fix.</span></li>
      <li><span>Gmail emails a confirmation code to the new address. That mailbox must be able to receive mail: open the message and click the link or enter the code.
        No mailbox on this domain? <${Link} href="/app/receive-here">Turn on “receive here”<//> for the address first: Mailroom catches Gmail’s message and shows the code to copy.</span></li>
    </ol>
    <p class="small">Gmail says something went wrong? <${Link} href="/app/doctor">Ask the doctor<//> — it connects the way Gmail does and names the step that fails.</p>
    ${selfSigned ? html`<${Notice} kind="warn" title="Gmail refuses self-signed certificates">
      ${'Gmail checks the certificate on “Secured connection using TLS” and “SSL” and rejects a self-signed one or one that does not name '}<span class="mono">${smtp.host || 'this server'}</span>${'. '}
      ${smtp.certificate?.selfSigned !== true ? ''
        : choice?.connection === 'unsecured' ? 'This server’s certificate is self-signed, so the values above use the unsecured connection (the secret key then crosses the network unencrypted). '
        : 'This server’s certificate is self-signed and unsecured logins are turned off, so Gmail cannot connect yet. '}
      ${'With a trusted certificate (ask your administrator to set up Let’s Encrypt), choose SSL instead.'}
    <//>` : null}
  <//>`;
}
