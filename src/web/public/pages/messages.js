// Messages: find what was sent by recipient, sender, status, tag and time.
// The filters live in the URL, so a search can be reloaded, bookmarked or shared.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { get, query } from '../lib/api.js';
import { useApi } from '../lib/use-api.js';
import { formatDateTime, STATUS_TEXT } from '../lib/format.js';
import { Link, navigate } from '../lib/router.js';
import { Address, Card, EmptyState, ErrorNotice, Loading, PageHeader, StatusBadge, Time } from '../components/ui.js';
import { useSession } from '../lib/session.js';

const FILTERS = /** @type {const} */ (['recipient', 'from', 'status', 'tag', 'since', 'until', 'account']);

/**
 * The form's times are local date-times; the API's are ISO 8601. An admin sees every account's
 * messages unless the account filter names one.
 * @param {URLSearchParams} params @param {boolean} isAdmin
 */
function apiQuery(params, isAdmin) {
  /** @type {Record<string, string | undefined>} */
  const out = isAdmin ? { account: 'all' } : {};
  for (const key of FILTERS) {
    const value = params.get(key) ?? '';
    if (!value) continue;
    const time = key === 'since' || key === 'until' ? new Date(value) : null;
    if (time && Number.isNaN(time.getTime())) continue;
    out[key] = time ? time.toISOString() : value;
  }
  return out;
}

/**
 * The time window, applied here as well: the log comes newest first, so a
 * message older than `since` means no later page can match either.
 * @param {any[]} items @param {URLSearchParams} params
 */
function withinTime(items, params) {
  const since = params.get('since') ? new Date(/** @type {string} */ (params.get('since'))).getTime() : -Infinity;
  const until = params.get('until') ? new Date(/** @type {string} */ (params.get('until'))).getTime() : Infinity;
  const kept = items.filter((m) => {
    const at = new Date(m.createdAt).getTime();
    return at >= since && at <= until;
  });
  const exhausted = items.some((m) => new Date(m.createdAt).getTime() < since);
  return { kept, exhausted };
}

/** @param {any} m @returns {{ address: string, status: string }[]} */
function recipientsOf(m) {
  if (Array.isArray(m.recipients)) return m.recipients.map((/** @type {any} */ r) => (typeof r === 'string' ? { address: r, status: m.status } : r));
  const to = Array.isArray(m.to) ? m.to : m.to ? [m.to] : [];
  return to.map((/** @type {string} */ address) => ({ address, status: m.status }));
}

/** One word for a message: its recipients' status when they agree, else the worst. @param {any} m */
function overallStatus(m) {
  if (m.status) return m.status;
  const statuses = recipientsOf(m).map((r) => r.status);
  for (const s of ['bounced', 'expired', 'complained', 'deferred', 'queued', 'suppressed', 'delivered']) if (statuses.includes(s)) return s;
  return 'queued';
}

/** @param {{ search: string }} props */
export function MessagesPage({ search }) {
  const params = new URLSearchParams(search);
  const { isAdmin } = useSession();
  const path = `/messages${query(apiQuery(params, isAdmin))}`;
  const page = useApi(path);
  const [more, setMore] = useState(/** @type {any[]} */ ([]));
  const [next, setNext] = useState(/** @type {string | null} */ (null));
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState(/** @type {any} */ (null));
  useEffect(() => {
    setMore([]);
    setNext(withinTime(page.data?.items ?? [], params).exhausted ? null : page.data?.next ?? null);
  }, [page.data]);

  const loadMore = async () => {
    if (!next) return;
    setLoadingMore(true);
    try {
      const data = await get(`/messages${query({ ...apiQuery(params, isAdmin), cursor: next })}`);
      const { exhausted } = withinTime(data.items ?? [], params);
      setMore((m) => [...m, ...(data.items ?? [])]);
      setNext(exhausted ? null : data.next ?? null);
      setMoreError(null);
    } catch (error) {
      setMoreError(error);
    } finally {
      setLoadingMore(false);
    }
  };

  const items = withinTime([...(page.data?.items ?? []), ...more], params).kept;
  const filtered = FILTERS.some((k) => params.get(k));

  return html`
    <${PageHeader} section="Sending" title="Messages" description=${isAdmin
      ? 'Every account’s messages, accepted over SMTP or the API, with what happened to each recipient. Filter by account below.'
      : 'Every message accepted over SMTP or the API, with what happened to each recipient.'} />
    <${Card}>
      <${SearchForm} params=${params} isAdmin=${isAdmin} />
    <//>
    <${ErrorNotice} error=${page.error} />
    <${Card} class="card-flush">
      ${page.loading && !page.data ? html`<${Loading} />`
        : items.length === 0 ? html`<${EmptyState} title=${filtered ? 'No messages match these filters' : 'No messages yet'}>
            ${filtered ? 'Try a wider time range or fewer filters.' : 'Messages appear here as soon as Mailroom accepts them.'}<//>`
        : html`<div class="table-wrap"><table class="table messages-table" aria-label="Messages">
          <thead><tr><th scope="col">Sent</th>${isAdmin ? html`<th scope="col">Account</th>` : null}<th scope="col">From</th><th scope="col">To</th><th scope="col">Subject</th><th scope="col">Status</th></tr></thead>
          <tbody>${items.map((m) => html`<${MessageRow} key=${m.id} message=${m} showAccount=${isAdmin} />`)}</tbody>
        </table></div>`}
      ${next ? html`<div class="card-footer">
        <${ErrorNotice} error=${moreError} />
        <button type="button" class="btn" onClick=${loadMore} disabled=${loadingMore}>${loadingMore ? 'Loading…' : 'Load older messages'}</button>
      </div>` : null}
    <//>
  `;
}

/** @param {{ message: any, showAccount: boolean }} props */
function MessageRow({ message: m, showAccount }) {
  const recipients = recipientsOf(m);
  const href = `/app/messages/${encodeURIComponent(m.id)}`;
  return html`<tr data-message-id=${m.id}>
    <td data-label="Sent" class="nowrap"><${Time} value=${m.createdAt}>${formatDateTime(m.createdAt)}<//></td>
    ${showAccount ? html`<td data-label="Account">${m.account ? html`<${Address} value=${m.account} />` : html`<span class="muted">Mailroom (bounce report)</span>`}</td>` : null}
    <td data-label="From"><${Address} value=${m.from} /></td>
    <td data-label="To"><${Address} value=${recipients[0]?.address} />${recipients.length > 1 ? html` <span class="muted">+${recipients.length - 1}</span>` : null}</td>
    <td data-label="Subject" class="subject-cell"><${Link} href=${href} class="row-link">${m.subject || html`<span class="muted">(no subject)</span>`}<//></td>
    <td data-label="Status"><${StatusBadge} status=${overallStatus(m)} /></td>
  </tr>`;
}

/** @param {{ params: URLSearchParams, isAdmin: boolean }} props */
function SearchForm({ params, isAdmin }) {
  /** @param {Event} event */
  const submit = (event) => {
    event.preventDefault();
    const form = new FormData(/** @type {HTMLFormElement} */ (event.currentTarget));
    const next = new URLSearchParams();
    for (const key of FILTERS) {
      const value = String(form.get(key) ?? '').trim();
      if (value) next.set(key, value);
    }
    const text = next.toString();
    navigate(`/app/messages${text ? `?${text}` : ''}`);
  };
  // Uncontrolled fields (defaultValue), re-created when the URL changes: typing is never
  // overwritten by a re-render, and Back shows the search that was made.
  const key = params.toString();
  return html`<form class="filters" onSubmit=${submit} key=${key} role="search" aria-label="Search messages">
    ${isAdmin ? html`<${AccountFilter} selected=${params.get('account') ?? ''} />` : null}
    <div class="field"><label for="f-recipient">Recipient</label>
      <input id="f-recipient" name="recipient" type="search" placeholder="someone@example.com" defaultValue=${params.get('recipient') ?? ''} /></div>
    <div class="field"><label for="f-from">Sender</label>
      <input id="f-from" name="from" type="search" placeholder="you@your-domain.com" defaultValue=${params.get('from') ?? ''} /></div>
    <div class="field"><label for="f-status">Status</label>
      <select id="f-status" name="status">
        <option value="">Any status</option>
        ${Object.entries(STATUS_TEXT).map(([value, info]) => html`<option value=${value} selected=${params.get('status') === value}>${info.label}</option>`)}
      </select></div>
    <div class="field"><label for="f-tag">Tag</label>
      <input id="f-tag" name="tag" type="search" placeholder="welcome" defaultValue=${params.get('tag') ?? ''} /></div>
    <div class="field"><label for="f-since">Sent after</label>
      <input id="f-since" name="since" type="datetime-local" defaultValue=${params.get('since') ?? ''} /></div>
    <div class="field"><label for="f-until">Sent before</label>
      <input id="f-until" name="until" type="datetime-local" defaultValue=${params.get('until') ?? ''} /></div>
    <div class="filters-actions">
      <button type="submit" class="btn btn-primary">Search</button>
      ${[...params.keys()].some((k) => /** @type {readonly string[]} */ (FILTERS).includes(k))
        ? html`<${Link} href="/app/messages" class="btn btn-ghost">Clear<//>` : null}
    </div>
  </form>`;
}

/** The admin's account filter: every account (the default) or one of them. @param {{ selected: string }} props */
function AccountFilter({ selected }) {
  const accounts = useApi('/admin/accounts?limit=100');
  /** @type {{ email: string }[]} */
  const list = accounts.data?.items ?? [];
  return html`<div class="field"><label for="f-account">Account</label>
    <select id="f-account" name="account">
      <option value="">All accounts</option>
      ${list.map((a) => html`<option value=${a.email} selected=${selected === a.email}>${a.email}</option>`)}
      ${selected && !list.some((a) => a.email === selected) ? html`<option value=${selected} selected>${selected}</option>` : null}
    </select></div>`;
}
