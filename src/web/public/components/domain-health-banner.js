// A banner on every signed-in page while the daily re-check finds a verified domain's DNS records
// gone or changed: mail still goes out, but receivers may start refusing it, so say it where the
// owner will see it, with a link to the domain's records.
import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';
import { enc } from '../lib/api.js';
import { useApi } from '../lib/use-api.js';
import { Link } from '../lib/router.js';
import { Notice } from './ui.js';

/** @param {{ path: string }} props */
export function DomainHealthBanner({ path }) {
  const domains = useApi('/domains?limit=100');
  // Read again on each page change, so a fix shows at the next click.
  const seen = useRef(path);
  useEffect(() => {
    if (seen.current === path) return;
    seen.current = path;
    domains.reload();
  }, [path]);
  const alerting = (domains.data?.items ?? []).filter((/** @type {any} */ d) => d.healthAlert);
  if (alerting.length === 0) return null;
  return html`<div class="health-banner" data-testid="domain-health-banner">
    <${Notice} kind="warn" title=${alerting.length === 1 ? 'A DNS record of your domain disappeared or changed' : 'DNS records of your domains disappeared or changed'}>
      ${alerting.map((/** @type {any} */ d) => html`<p>
        <${Link} href=${`/app/domains/${enc(d.name)}`}>${d.name}</${Link}>: ${d.healthAlert.records.map((/** @type {any} */ r) => r.name).join(', ')}.
        Mail still goes out, but receivers may start refusing it — publish the records shown again.
      </p>`)}
    <//>
  </div>`;
}
