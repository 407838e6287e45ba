// The frame around every signed-in page: navigation on the left (a menu button
// on phones), the signed-in account and sign-out, and the page itself.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { Link } from '../lib/router.js';
import { useSession } from '../lib/session.js';
import { DomainHealthBanner } from './domain-health-banner.js';
import { BookIcon, ChartIcon, HomeIcon, PulseIcon, CloseIcon, GlobeIcon, HookIcon, InboxIcon, BlockIcon, LogoutIcon, Logo, MenuIcon, RouteIcon, UserIcon, UsersIcon } from './icons.js';

// The headings are the names replies and docs use: "Settings → Domains" is the Domains item under Settings.
const SENDING = [
  { href: '/app/overview', label: 'Overview', icon: HomeIcon },
  { href: '/app/messages', label: 'Messages', icon: InboxIcon },
  { href: '/app/templates', label: 'Templates', icon: InboxIcon },
  { href: '/app/reports', label: 'Reports', icon: ChartIcon },
  { href: '/app/usage', label: 'Usage & stats', icon: ChartIcon },
];
const SETTINGS = [
  { href: '/app/profile', label: 'Profile & SMTP', icon: UserIcon },
  { href: '/app/domains', label: 'Domains', icon: GlobeIcon },
  { href: '/app/suppressions', label: 'Suppressions', icon: BlockIcon },
  { href: '/app/receive-here', label: 'Receive here', icon: InboxIcon },
  { href: '/app/webhooks', label: 'Webhooks', icon: HookIcon },
  { href: '/app/doctor', label: 'Send-As doctor', icon: PulseIcon },
];
const ADMIN = [
  { href: '/app/admin/accounts', label: 'Accounts', icon: UsersIcon },
  { href: '/app/admin/destinations', label: 'Destinations', icon: RouteIcon },
];
/** Served by the API server itself (Swagger UI), outside the dashboard's pages. */
const API_REFERENCE = '/api/docs';

/** @param {{ path: string, children: any }} props */
export function Layout({ path, children }) {
  const session = useSession();
  const [open, setOpen] = useState(false);
  const mainRef = useRef(/** @type {HTMLElement | null} */ (null));
  const firstRender = useRef(true);
  useEffect(() => {
    setOpen(false);
    // After an in-app navigation, start keyboard and screen-reader users at the new page's content.
    if (firstRender.current) firstRender.current = false;
    else mainRef.current?.focus({ preventScroll: true });
  }, [path]);
  useEffect(() => {
    if (!open) return;
    /** @param {KeyboardEvent} event */
    const onKey = (event) => { if (event.key === 'Escape') setOpen(false); };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [open]);

  /** @param {{ href: string, label: string, icon: any }} item */
  const navItem = (item) => {
    const current = path === item.href || path.startsWith(`${item.href}/`);
    return html`<li><${Link} href=${item.href} class=${`nav-link ${current ? 'is-current' : ''}`} aria-current=${current ? 'page' : undefined}>
      <${item.icon} /><span>${item.label}</span>
    <//></li>`;
  };

  return html`<div class=${`shell ${open ? 'nav-open' : ''}`}>
    <a class="skip-link" href="#main" onClick=${(/** @type {Event} */ e) => { e.preventDefault(); mainRef.current?.focus(); }}>Skip to content</a>
    <header class="topbar">
      <${Link} href="/app/overview" class="brand"><${Logo} /><span>Mailroom</span><//>
      <button type="button" class="btn btn-ghost menu-button" aria-expanded=${open} aria-controls="sidebar" onClick=${() => setOpen(!open)}>
        ${open ? html`<${CloseIcon} />` : html`<${MenuIcon} />`}<span>Menu</span>
      </button>
    </header>
    <nav class="sidebar" id="sidebar" aria-label="Main">
      <${Link} href="/app/overview" class="brand brand-sidebar"><${Logo} /><span>Mailroom</span><//>
      <div class="nav-section">
        <div class="nav-heading" id="nav-sending">Sending</div>
        <ul class="nav-list" aria-labelledby="nav-sending">${SENDING.map(navItem)}</ul>
      </div>
      <div class="nav-section">
        <div class="nav-heading" id="nav-settings">Settings</div>
        <ul class="nav-list" aria-labelledby="nav-settings">${SETTINGS.map(navItem)}</ul>
      </div>
      ${session.isAdmin ? html`<div class="nav-section">
        <div class="nav-heading" id="nav-admin">Administration</div>
        <ul class="nav-list" aria-labelledby="nav-admin">${ADMIN.map(navItem)}</ul>
      </div>` : null}
      <div class="nav-section">
        <div class="nav-heading" id="nav-help">Help</div>
        <ul class="nav-list" aria-labelledby="nav-help">
          <li><a href=${API_REFERENCE} class="nav-link" target="_blank" rel="noopener" data-testid="api-reference-link"><${BookIcon} /><span>API reference</span><span class="sr-only"> (opens in a new tab)</span></a></li>
        </ul>
      </div>
      <div class="sidebar-footer">
        <div class="signed-in-as">
          <span class="signed-in-label">Signed in as</span>
          <span class="signed-in-email" data-testid="signed-in-email">${session.account?.email}</span>
        </div>
        <button type="button" class="btn btn-ghost btn-block" onClick=${session.signOut}><${LogoutIcon} /><span>Sign out</span></button>
      </div>
    </nav>
    <main id="main" class="main" tabindex="-1" ref=${mainRef}>
      <div class="content"><${DomainHealthBanner} path=${path} />${children}</div>
    </main>
  </div>`;
}
