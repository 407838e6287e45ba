// One sending domain: the DNS records to publish, each with its own check
// result in plain words, and the Verify button that looks them up again.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { del, enc, post } from '../lib/api.js';
import { useApi } from '../lib/use-api.js';
import { formatDateTime, formatRelative } from '../lib/format.js';
import { Link, navigate } from '../lib/router.js';
import { ArrowLeftIcon, RefreshIcon } from '../components/icons.js';
import { Badge, Card, ConfirmButton, CopyButton, ErrorNotice, Loading, Notice, PageHeader } from '../components/ui.js';
import { DkimRotationCard } from '../components/dkim-rotation.js';

const PURPOSE = {
  dkim: { title: 'DKIM signing key', why: 'Lets receivers check that mail from this domain was signed by Mailroom.' },
  spf: { title: 'SPF', why: 'Authorises Mailroom’s server to send for this domain.' },
  'return-path': { title: 'Return path', why: 'Bounces come back to Mailroom, so it can stop sending to dead addresses.' },
  dmarc: { title: 'DMARC (recommended)', why: 'Tells receivers what to do with unauthenticated mail. Optional: it does not block verification.' },
};

/**
 * Records as published (from the domain) with their latest check (from Verify, or the stored last check).
 * @param {any} data  GET /domains/:name
 * @param {any} check POST /domains/:name/verify, if pressed
 */
function recordRows(data, check) {
  const records = data?.records ?? [];
  const checks = check?.records ?? data?.lastCheck?.records ?? [];
  return records.map((/** @type {any} */ r) => ({
    ...r,
    check: checks.find((/** @type {any} */ c) => c.purpose === r.purpose && c.name === r.name) ?? null,
  }));
}

/** @param {{ name: string }} props */
export function DomainPage({ name }) {
  const domain = useApi(`/domains/${enc(name)}`);
  const [check, setCheck] = useState(/** @type {any} */ (null));
  const [verifying, setVerifying] = useState(false);
  const [error, setError] = useState(/** @type {any} */ (null));

  const verify = async () => {
    setVerifying(true);
    setError(null);
    try {
      setCheck(await post(`/domains/${enc(name)}/verify`));
      await domain.reload();
    } catch (err) {
      setError(err);
    } finally {
      setVerifying(false);
    }
  };

  const remove = async () => {
    try {
      await del(`/domains/${enc(name)}`);
      navigate('/app/domains');
    } catch (err) {
      setError(err);
    }
  };

  const info = domain.data?.domain ?? {};
  const verified = check ? Boolean(check.verified) : Boolean(info.verified);
  const rows = recordRows(domain.data, check);
  const checkedAt = check ? Date.now() : domain.data?.lastCheck?.at;
  // The server's own name (MAILROOM_HOSTNAME) is not a record the user publishes, but the SPF
  // and return-path records point at it, so its check is shown with them.
  const hostCheck = (check?.records ?? domain.data?.lastCheck?.records ?? []).find((/** @type {any} */ c) => c.purpose === 'server-host') ?? null;
  const hostWarning = rows.find((r) => r.warning)?.warning ?? null;
  const back = html`<${Link} href="/app/domains" class="back-link"><${ArrowLeftIcon} />All domains<//>`;

  if (domain.loading && !domain.data) return html`<${PageHeader} title=${name} back=${back} /><${Loading} />`;
  if (domain.error && !domain.data) return html`<${PageHeader} title=${name} back=${back} /><${ErrorNotice} error=${domain.error} />`;

  return html`
    <${PageHeader} title=${name} back=${back}
      description=${html`<span class="status-line" data-testid="domain-status">${verified
        ? html`<${Badge} tone="ok">Verified<//> <span>Mail from <span class="mono">@${name}</span> can be sent.</span>`
        : html`<${Badge} tone="warn">Not verified<//> <span>Publish the records below at your DNS provider, then press Verify.</span>`}</span>`}
      actions=${html`<button type="button" class="btn btn-primary" onClick=${verify} disabled=${verifying} data-action="verify">
        <${RefreshIcon} />${verifying ? 'Checking DNS…' : 'Verify'}</button>`} />
    <${ErrorNotice} error=${error} />
    ${check && check.verified ? html`<${Notice} kind="ok" title="Domain verified">All required records check out. You can send from any address at ${name}.<//>` : null}
    ${check && !check.verified ? html`<${Notice} kind="warn" title="Not verified yet">Some records are missing or different. DNS changes can take a few minutes (sometimes hours) to appear; fix what is listed below and verify again.<//>` : null}
    ${hostWarning ? html`<${Notice} kind="warn" title="Records not usable yet">${hostWarning}<//>` : null}
    ${hostCheck && !hostCheck.ok && !hostWarning ? html`<${Notice} kind="warn" title="The server name has no address">${hostCheck.error}<//>` : null}
    <${Card} title="DNS records to publish"
      description=${html`Add these at your DNS provider. ${checkedAt ? html`Last checked ${formatRelative(checkedAt)}.` : 'Not checked yet.'}`}>
      <ul class="records" aria-label="DNS records">${rows.map((r) => html`<${RecordItem} key=${r.purpose + r.name} record=${r} />`)}</ul>
    <//>
    <${Card} title="DMARC reports" description="What mailbox providers report about mail sent as this domain: which servers pass SPF and DKIM for it, and which send as it without passing.">
      <${Link} href=${`/app/domains/${enc(name)}/dmarc`} class="btn btn-sm">See DMARC reports<//>
    <//>
    ${info.verified ? html`<${DkimRotationCard} name=${name} rotation=${domain.data?.dkimRotation} currentSelector=${info.dkimSelector} onChange=${domain.reload} />` : null}
    <${Card} title="Remove this domain" description="Mail from this domain will be refused until you add and verify it again.">
      <${ConfirmButton} label="Remove domain" question=${`Remove ${name}?`} confirmLabel="Remove" onConfirm=${remove} />
    <//>
    ${info.verifiedBy === 'force' ? html`<p class="muted small">Marked verified by an administrator${info.verifiedAt ? ` on ${formatDateTime(info.verifiedAt)}` : ''}.</p>` : null}
  `;
}

/** @param {{ record: any }} props */
function RecordItem({ record }) {
  const purpose = /** @type {Record<string, {title: string, why: string}>} */ (PURPOSE)[record.purpose] ?? { title: record.purpose, why: '' };
  const check = record.check;
  const state = !check ? 'unchecked' : check.ok ? 'ok' : record.purpose === 'dmarc' ? 'optional' : 'bad';
  const badge = {
    unchecked: html`<${Badge} tone="muted">Not checked<//>`,
    ok: html`<${Badge} tone="ok">Found<//>`,
    optional: html`<${Badge} tone="info">Missing (optional)<//>`,
    bad: html`<${Badge} tone="bad">Not found<//>`,
  }[state];
  return html`<li class=${`record record-${state}`} data-purpose=${record.purpose} data-state=${state}>
    <div class="record-head">
      <div>
        <h3 class="record-title">${purpose.title} <span class="record-type">${record.type}</span></h3>
        <p class="muted small">${purpose.why}</p>
      </div>
      ${record.warning ? html`<${Badge} tone="bad">Not usable yet<//>` : badge}
    </div>
    <dl class="record-fields">
      <div class="record-field">
        <dt>Name</dt>
        <dd><code class="mono">${record.name}</code><${CopyButton} value=${record.name} label=${`${purpose.title} name`} compact /></dd>
      </div>
      ${record.priority !== undefined ? html`<div class="record-field"><dt>Priority</dt><dd><code class="mono">${record.priority}</code></dd></div>` : null}
      <div class="record-field">
        <dt>Value</dt>
        <dd><code class="mono record-value">${record.value}</code><${CopyButton} value=${record.value} label=${`${purpose.title} value`} compact /></dd>
      </div>
    </dl>
    ${check && !check.ok && check.error ? html`<p class="record-error">${check.error}</p>` : null}
    ${check && !check.ok && check.found?.length ? html`<details class="record-found"><summary>What DNS has now</summary>
      <ul>${check.found.map((/** @type {string} */ f) => html`<li><code class="mono">${f}</code></li>`)}</ul></details>` : null}
  </li>`;
}
