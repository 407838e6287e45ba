// The frame around every signed-in page: navigation on the left (a menu button
// on phones), the signed-in account and sign-out, and the page itself.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { Link } from '../lib/router.js';
import { useSession } from '../lib/session.js';
import { ChartIcon, PulseIcon, CloseIcon, GlobeIcon, HookIcon, InboxIcon, BlockIcon, LogoutIcon, Logo, MenuIcon, UserIcon, UsersIcon } from './icons.js';

const SENDING = [
  { href: '/app/profile', label: 'Profile & SMTP', icon: UserIcon },
  { href: '/app/doctor', label: 'Send-As doctor', icon: PulseIcon },
  { href: '/app/domains', label: 'Domains', icon: GlobeIcon },
  { href: '/app/messages', label: 'Messages', icon: InboxIcon },
  { href: '/app/suppressions', label: 'Suppressions', icon: BlockIcon },
  { href: '/app/webhooks', label: 'Webhooks', icon: HookIcon },
  { href: '/app/templates', label: 'Templates', icon: InboxIcon },
  { href: '/app/reports', label: 'Reports', icon: ChartIcon },
  { href: '/app/usage', label: 'Usage & stats', icon: ChartIcon },
];
const ADMIN = [{ href: '/app/admin/accounts', label: 'Accounts', icon: UsersIcon }];

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
      <${Link} href="/app/profile" class="brand"><${Logo} /><span>Mailroom</span><//>
      <button type="button" class="btn btn-ghost menu-button" aria-expanded=${open} aria-controls="sidebar" onClick=${() => setOpen(!open)}>
        ${open ? html`<${CloseIcon} />` : html`<${MenuIcon} />`}<span>Menu</span>
      </button>
    </header>
    <nav class="sidebar" id="sidebar" aria-label="Main">
      <${Link} href="/app/profile" class="brand brand-sidebar"><${Logo} /><span>Mailroom</span><//>
      <div class="nav-section">
        <div class="nav-heading" id="nav-sending">Sending</div>
        <ul class="nav-list" aria-labelledby="nav-sending">${SENDING.map(navItem)}</ul>
      </div>
      ${session.isAdmin ? html`<div class="nav-section">
        <div class="nav-heading" id="nav-admin">Administration</div>
        <ul class="nav-list" aria-labelledby="nav-admin">${ADMIN.map(navItem)}</ul>
      </div>` : null}
      <div class="sidebar-footer">
        <div class="signed-in-as">
          <span class="signed-in-label">Signed in as</span>
          <span class="signed-in-email" data-testid="signed-in-email">${session.account?.email}</span>
        </div>
        <button type="button" class="btn btn-ghost btn-block" onClick=${session.signOut}><${LogoutIcon} /><span>Sign out</span></button>
      </div>
    </nav>
    <main id="main" class="main" tabindex="-1" ref=${mainRef}>
      <div class="content">${children}</div>
    </main>
  </div>`;
}
