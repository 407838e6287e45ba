// The dashboard's entry: finds out who is signed in, then shows the login page
// or the page the URL names inside the app's frame.
import { html, render } from 'htm/preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { UNAUTHORIZED_EVENT } from './lib/api.js';
import { match, navigate, useLocation } from './lib/router.js';
import { loadAccount, SessionContext, signOut } from './lib/session.js';
import { Layout } from './components/layout.js';
import { Loading, Notice } from './components/ui.js';
import { LoginPage } from './pages/login.js';
import { ProfilePage } from './pages/profile.js';
import { OverviewPage } from './pages/overview.js';
import { DoctorPage } from './pages/doctor.js';
import { DomainsPage } from './pages/domains.js';
import { DomainPage } from './pages/domain.js';
import { DmarcPage } from './pages/dmarc.js';
import { MessagesPage } from './pages/messages.js';
import { MessagePage } from './pages/message.js';
import { SuppressionsPage } from './pages/suppressions.js';
import { WebhooksPage } from './pages/webhooks.js';
import { UsagePage } from './pages/usage.js';
import { AccountsPage } from './pages/admin-accounts.js';
import { DestinationsPage } from './pages/destinations.js';
import { TemplatesPage } from './pages/templates.js';
import { ReportsPage } from './pages/reports.js';
import { ReceiveHerePage } from './pages/receive-here.js';

/** Path pattern → page, in the order they are tried. */
const ROUTES = [
  { pattern: '/app/overview', page: OverviewPage, title: 'Overview' },
  { pattern: '/app/profile', page: ProfilePage, title: 'Profile & SMTP' },
  { pattern: '/app/doctor', page: DoctorPage, title: 'Send-As doctor' },
  { pattern: '/app/domains', page: DomainsPage, title: 'Domains' },
  { pattern: '/app/domains/:name', page: DomainPage, title: 'Domain' },
  { pattern: '/app/domains/:name/dmarc', page: DmarcPage, title: 'DMARC reports' },
  { pattern: '/app/messages', page: MessagesPage, title: 'Messages' },
  { pattern: '/app/messages/:id', page: MessagePage, title: 'Message' },
  { pattern: '/app/suppressions', page: SuppressionsPage, title: 'Suppressions' },
  { pattern: '/app/receive-here', page: ReceiveHerePage, title: 'Receive here' },
  { pattern: '/app/webhooks', page: WebhooksPage, title: 'Webhooks' },
  { pattern: '/app/templates', page: TemplatesPage, title: 'Templates' },
  { pattern: '/app/reports', page: ReportsPage, title: 'Reports' },
  { pattern: '/app/usage', page: UsagePage, title: 'Usage & stats' },
  { pattern: '/app/admin/accounts', page: AccountsPage, title: 'Accounts', admin: true },
  { pattern: '/app/admin/destinations', page: DestinationsPage, title: 'Destinations', admin: true },
];

function App() {
  const { path, search } = useLocation();
  const [state, setState] = useState(/** @type {{ status: 'loading' | 'signed-out' | 'signed-in' | 'failed', account?: any, isAdmin?: boolean, error?: any }} */ ({ status: 'loading' }));

  const refresh = useCallback(async () => {
    try {
      const who = await loadAccount();
      setState(who ? { status: 'signed-in', ...who } : { status: 'signed-out' });
    } catch (error) {
      setState({ status: 'failed', error });
    }
  }, []);

  useEffect(() => { refresh(); }, [refresh]);
  useEffect(() => {
    const onUnauthorized = () => setState({ status: 'signed-out' });
    window.addEventListener(UNAUTHORIZED_EVENT, onUnauthorized);
    return () => window.removeEventListener(UNAUTHORIZED_EVENT, onUnauthorized);
  }, []);

  const signedIn = state.status === 'signed-in';
  const wantsLogin = path === '/login';
  useEffect(() => {
    if (state.status === 'signed-out' && !wantsLogin) {
      const back = path.startsWith('/app/') ? `?next=${encodeURIComponent(path + search)}` : '';
      navigate(`/login${back}`, { replace: true });
    } else if (signedIn && (wantsLogin || path === '/' || path === '/app' || path === '/app/')) {
      const next = new URLSearchParams(search).get('next');
      navigate(next && next.startsWith('/app/') ? next : '/app/overview', { replace: true });
    }
  }, [state.status, path]);

  const route = ROUTES.map((r) => ({ ...r, params: match(r.pattern, path) })).find((r) => r.params);
  useEffect(() => {
    document.title = wantsLogin ? 'Sign in · Mailroom' : route ? `${route.title} · Mailroom` : 'Mailroom';
  }, [route?.pattern, wantsLogin]);

  if (state.status === 'loading') return html`<div class="boot"><${Loading} /></div>`;
  if (state.status === 'failed') {
    return html`<div class="boot"><${Notice} kind="error" title="The dashboard could not start">${state.error?.message ?? ''}<//></div>`;
  }
  if (!signedIn) return wantsLogin ? html`<${LoginPage} onSignedIn=${refresh} />` : null;

  const session = {
    account: state.account, isAdmin: Boolean(state.isAdmin), refresh,
    signOut: async () => {
      await signOut();
      setState({ status: 'signed-out' });
      navigate('/login');
    },
  };
  let content;
  if (!route) content = html`<${NotFound} />`;
  else if (route.admin && !session.isAdmin) content = html`<${Notice} kind="warn" title="Admins only">This page is for the Mailroom administrator.<//>`;
  else content = html`<${route.page} ...${route.params} search=${search} />`;
  return html`<${SessionContext.Provider} value=${session}>
    <${Layout} path=${path}>${content}<//>
  <//>`;
}

function NotFound() {
  return html`<${Notice} kind="warn" title="Page not found">There is nothing at this address. Use the menu to find your way.<//>`;
}

const root = document.getElementById('root');
if (root) {
  root.textContent = '';
  render(html`<${App} />`, root);
}
