/**
 * The guide's path through the dashboard, in a real browser against a real
 * Mailroom: the admin creates an account; its user adds a domain, publishes
 * the records shown (in a loopback DNS server), verifies it, reads the SMTP
 * settings on the profile page, sends over SMTP with exactly those values and
 * finds the message delivered — plus the API user's path with a key made in
 * the UI. Screenshots of every main page land in
 * test-artifacts/screenshots/ at 1280×800 and 390×844 (SQLite run only: the pages are the same).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dns from 'node:dns';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
import type { Page } from 'playwright-core';
import { createAccount } from '../../src/accounts/accounts.ts';
import type { DnsRecordToPublish, RecordPurpose } from '../../src/domains/records.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.ts';
import { startMxPeer, type MxPeer } from '../support/mx-peer.ts';
import { describeEachStore } from '../support/stores.ts';
import { recheckDueDomains } from '../../src/domains/recheck.ts';
import { createResolver } from '../../src/dns/resolver.ts';
import { browserSkipReason, launchBrowser, screenshot, watchErrors, openDashboard, signIn, type TestBrowser } from './browser.ts';

const ADMIN = { email: 'ops@mailroom.example', password: 'admin-password-1' };
const OWNER = { email: 'owner@shop.example', password: 'owner-password-1' };
const DOMAIN = 'shop.example';
const RECIPIENT = 'customer@inbox.example';

const skip = browserSkipReason();
let browser: TestBrowser;

describe('dashboard in a browser', { skip }, () => {
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  describeEachStore('the guide, end to end', (engine) => {
    let mailroom: TestMailroom;
    let dnsServer: TestDnsServer;
    let mx: MxPeer;
    let hooks: { url: string; received: Array<{ body: string }>; close(): Promise<void> };
    let base: string;
    let page: Page;
    let errors: string[];
    const shots = engine === 'sqlite';

    before(async () => {
      dnsServer = await startDnsServer();
      mx = await startMxPeer({ hostname: 'mx.inbox.example' });
      // The test DNS server is this world's DNS: the recipient's MX, and the
      // SMTP host name the profile page shows, so the client can dial it by name.
      dnsServer.set('inbox.example', 'MX', { exchange: 'mx.inbox.example', priority: 10 });
      dnsServer.set('mx.inbox.example', 'A', '127.0.0.1');
      dnsServer.set('mailroom.test', 'A', '127.0.0.1');
      mailroom = await startTestMailroom(engine, {
        MAILROOM_DNS_SERVERS: dnsServer.address,
        MAILROOM_DELIVERY_PORT: String(mx.port),
      });
      await createAccount(mailroom.running.store, { ...ADMIN, dailyLimit: 1000, isAdmin: true });
      hooks = await startHookReceiver();
      ({ page, base, errors } = await openDashboard(browser, mailroom.port('http')));
    });
    after(async () => {
      await page?.close();
      await mailroom?.stop();
      await Promise.all([mx?.close(), dnsServer?.close(), hooks?.close()]);
    });

    it('sends a signed-out visitor to the login page, which refuses a wrong password', async () => {
      await page.goto(`${base}/app/profile`);
      await page.waitForURL(/\/login\?next=/);
      if (shots) await shotBothWidths(page, 'login');
      await signIn(page, { email: ADMIN.email, password: 'not-the-password' });
      await page.getByRole('alert').filter({ hasText: 'do not match' }).waitFor();
    });

    it('lets the admin create an account and change its daily limit', async () => {
      await page.getByLabel('Password').fill(ADMIN.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      // Signed in from /app/profile, so that is where the admin lands.
      await page.waitForURL(/\/app\/profile$/);
      await page.getByRole('link', { name: 'Accounts' }).click();
      await page.waitForURL(/\/app\/admin\/accounts$/);
      await page.getByLabel('Email', { exact: true }).fill(OWNER.email);
      await page.getByLabel('Daily limit', { exact: true }).fill('500');
      await page.getByLabel('Dashboard password (optional)').fill(OWNER.password);
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.getByRole('region', { name: 'New account credentials' }).getByText(`Account ${OWNER.email} created`).waitFor();
      const row = page.locator(`tr[data-account="${OWNER.email}"]`);
      await row.getByText('500').waitFor();
      await row.getByRole('button', { name: `Edit daily limit of ${OWNER.email}` }).click();
      await row.getByLabel(`Daily limit for ${OWNER.email}`).fill('750');
      await row.getByRole('button', { name: 'Save' }).click();
      await row.getByText('750').waitFor();
      if (shots) await shotBothWidths(page, 'admin-accounts');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(/\/login$/);
    });

    let records: DnsRecordToPublish[] = [];

    it('lets the user add a domain and shows the DNS records to publish', async () => {
      await signIn(page, OWNER);
      // Without a page to return to, the first page is the overview.
      await page.waitForURL(/\/app\/overview$/);
      assert.equal(await page.getByTestId('signed-in-email').textContent(), OWNER.email);
      // Replies say "Settings → Domains": the menu has exactly that.
      const settings = page.getByRole('navigation', { name: 'Main' }).getByRole('list', { name: 'Settings' });
      await settings.getByRole('link', { name: 'Domains' }).waitFor();
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Domains' }).click();
      await page.getByLabel('Domain', { exact: true }).fill(DOMAIN);
      await page.getByRole('button', { name: 'Add domain' }).click();
      await page.waitForURL(new RegExp(`/app/domains/${DOMAIN.replace('.', '\\.')}$`));
      await page.getByRole('heading', { name: DOMAIN, level: 1 }).waitFor();
      await page.locator('li.record').first().waitFor();
      records = await readRecords(page);
      assert.deepEqual(records.map((r) => r.purpose).sort(), ['dkim', 'dmarc', 'return-path', 'spf']);
      const spf = records.find((r) => r.purpose === 'spf');
      assert.deepEqual(spf, { purpose: 'spf', type: 'TXT', name: DOMAIN, value: 'v=spf1 a:mailroom.test ~all' });
      assert.match(records.find((r) => r.purpose === 'dkim')?.value ?? '', /^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]{300,}$/);
    });

    it('explains in plain words why each record fails before it is published', async () => {
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByText('Not verified yet').waitFor();
      const spf = page.locator('li.record[data-purpose="spf"]');
      assert.equal(await spf.getAttribute('data-state'), 'bad');
      assert.match(await spf.locator('.record-error').textContent() ?? '', /No SPF record \(v=spf1\) found at shop\.example/);
      assert.equal(await page.locator('li.record[data-purpose="dmarc"]').getAttribute('data-state'), 'optional');
      if (shots) await shotBothWidths(page, 'domain-unverified');
    });

    it('verifies the domain once the records shown are published', async () => {
      dnsServer.publish(records);
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByText('Domain verified').waitFor();
      assert.match(await page.getByTestId('domain-status').textContent() ?? '', /^Verified/);
      for (const purpose of ['dkim', 'spf', 'return-path', 'dmarc']) {
        assert.equal(await page.locator(`li.record[data-purpose="${purpose}"]`).getAttribute('data-state'), 'ok', purpose);
      }
      if (shots) await shotBothWidths(page, 'domain-verified');
      await page.getByRole('link', { name: 'All domains' }).click();
      await page.locator(`[data-domain="${DOMAIN}"]`).getByText('Verified', { exact: true }).waitFor();
      if (shots) await shotBothWidths(page, 'domains');
    });

    let smtp: { host: string; port: number; username: string };
    let gmailKey = '';

    it('shows the SMTP settings and reveals a new secret key once', async () => {
      await page.getByRole('link', { name: 'Profile & SMTP' }).first().click();
      await page.waitForURL(/\/app\/profile$/);
      const host = await page.locator('[data-value="smtp-host"]').textContent();
      const username = await page.locator('[data-value="smtp-username"]').textContent();
      const unsecured = page.locator('tr[data-connection="unsecured"]');
      const port = Number(await unsecured.getAttribute('data-port'));
      smtp = { host: host ?? '', port, username: username ?? '' };
      assert.deepEqual(smtp, { host: 'mailroom.test', port: mailroom.port('submission'), username: OWNER.email });
      assert.equal(Number(await page.locator('tr[data-connection="ssl"]').getAttribute('data-port')), mailroom.port('submissions'));
      assert.equal(await page.locator('tr[data-connection="starttls"]').getAttribute('data-port'), String(port));
      // The Gmail walkthrough repeats the values, choosing the connection Gmail can use with a self-signed certificate.
      assert.equal(await page.locator('[data-value="gmail-host"]').textContent(), 'mailroom.test');
      assert.equal(await page.locator('[data-value="gmail-port"]').textContent(), String(port));
      assert.equal(await page.locator('[data-value="gmail-connection"]').textContent(), 'Unsecured connection');
      await page.getByText('Gmail refuses self-signed certificates').waitFor();
      // Words stay apart where the notice's sentences meet a host name or each other.
      const notice = (await page.locator('.notice', { hasText: 'Gmail refuses self-signed certificates' }).textContent()) ?? '';
      assert.match(notice, /does not name mailroom\.test\. This server’s certificate is self-signed/);
      assert.match(notice, /unencrypted\)\. With a trusted certificate/);
      await page.getByText(DOMAIN, { exact: true }).first().waitFor();

      await page.getByLabel('New key name').fill('Gmail');
      await page.getByRole('button', { name: 'Create secret key' }).click();
      gmailKey = (await page.getByTestId('new-secret').textContent()) ?? '';
      assert.match(gmailKey, /^mr_[A-Za-z0-9_-]{20,}$/);
      const row = page.locator('tr', { hasText: 'Gmail' });
      assert.equal(await row.locator('td[data-label="Key"]').textContent(), `mr_…${gmailKey.slice(-4)}`);
      assert.equal(await row.locator('td[data-label="Last used"]').textContent(), 'Never');
      if (shots) await shotBothWidths(page, 'profile');
      await page.getByRole('button', { name: 'I have copied it' }).click();
      assert.equal(await page.getByTestId('new-secret').count(), 0, 'the secret is gone once dismissed');
    });

    let queueId = '';

    it('sends over SMTP with exactly the values on the profile page', async () => {
      const transport = nodemailer.createTransport({
        host: smtp.host, port: smtp.port, secure: false, ignoreTLS: true, // the guide's "Unsecured connection"
        auth: { user: smtp.username, pass: gmailKey },
        getSocket: dialThroughDns(dnsServer.address),
      });
      const info = await transport.sendMail({
        from: `Shop <hello@${DOMAIN}>`, to: RECIPIENT, subject: 'Your order #1001', text: 'Thank you for your order.',
      });
      transport.close();
      const id = /queued as (\S+)/.exec(info.response)?.[1];
      assert.ok(id, `a queue id in ${info.response}`);
      queueId = id;
      const [received] = await mx.waitFor(1, 15_000);
      assert.deepEqual(received.rcptTo, [RECIPIENT]);
      assert.match(received.raw.toString(), /^DKIM-Signature: .*d=shop\.example/m);
      const row = page.locator('tr', { hasText: 'Gmail' });
      // SMTP AUTH notes the key's use in memory; it reaches the store within about a second.
      await eventually(page, async () => (await row.locator('td[data-label="Last used"]').textContent()) !== 'Never');
      assert.match((await row.locator('td[data-label="Last used"]').textContent()) ?? '', /from 127\.0\.0\.1$/, 'and from which address');
      assert.equal(await row.locator('td[data-label="Sent (24 h)"]').textContent(), '1', 'the key sent one email');
      assert.equal(await row.locator('td[data-label="Scope"]').textContent(), 'Full access', 'a key made in the dashboard may do all the account may');
    });

    it('finds the message in Messages, delivered, with the attempt timeline', async () => {
      await page.getByRole('link', { name: 'Messages' }).first().click();
      await page.getByLabel('Recipient').fill(RECIPIENT);
      await page.getByRole('button', { name: 'Search' }).click();
      await page.waitForURL(/\?recipient=customer%40inbox\.example/);
      const row = page.locator('tr[data-message-id]', { hasText: 'Your order #1001' });
      await eventually(page, async () => (await row.locator('[data-status]').getAttribute('data-status')) === 'delivered');
      if (shots) await shotBothWidths(page, 'messages');
      await row.getByRole('link', { name: 'Your order #1001' }).click();
      await page.getByRole('heading', { name: 'Your order #1001', level: 1 }).waitFor();
      const recipient = page.locator(`li[data-recipient="${RECIPIENT}"]`);
      assert.equal(await recipient.locator('[data-status]').first().getAttribute('data-status'), 'delivered');
      const attempt = recipient.locator('.timeline-item').first();
      assert.match(await attempt.textContent() ?? '', /mx\.inbox\.example/);
      assert.match(await attempt.locator('.reply-text').textContent() ?? '', /^250\b/);
      assert.ok(page.url().endsWith(`/app/messages/${queueId}`), `${page.url()} is the page of ${queueId}`);
      if (shots) await shotBothWidths(page, 'message');
    });

    it('says in plain words why a message bounced, beside the raw reply', async () => {
      // A typo in the recipient's domain: the test DNS server answers NXDOMAIN for it.
      const sent = await fetch(`${base}/api/v1/messages`, {
        method: 'POST', headers: { authorization: `Bearer ${gmailKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ from: `hello@${DOMAIN}`, to: 'customer@inbox.exmaple', subject: 'Typo in the domain', text: 'Hello.' }),
      });
      assert.equal(sent.status, 202, await sent.clone().text());
      const { id } = (await sent.json()) as { id: string };
      await page.goto(`${base}/app/messages/${id}`);
      await page.getByRole('heading', { name: 'Typo in the domain', level: 1 }).waitFor();
      const recipient = page.locator('li[data-recipient="customer@inbox.exmaple"]');
      await eventually(page, async () => (await recipient.locator('[data-status]').first().getAttribute('data-status')) === 'bounced');
      assert.equal(await recipient.locator('.explanation-summary').textContent(), "The recipient's domain does not exist.");
      assert.match(await recipient.locator('[data-explanation]').textContent() ?? '', /What to do: Check the address for a typo/);
      assert.match(await recipient.locator('.reply-text').first().textContent() ?? '', /does not exist/);
      if (shots) await shotBothWidths(page, 'message-bounced');
    });

    it('warns on every page when the daily re-check finds a record of the domain gone, and stops once it is back', async () => {
      const dkim = records.find((r) => r.purpose === 'dkim')!;
      const recheck = (now: number) => recheckDueDomains({ store: mailroom.running.store, resolver: createResolver([dnsServer.address]), serverHostname: 'mailroom.test', now: () => now, jitterMs: 0 });
      dnsServer.clear(dkim.name);
      await recheck(Date.now() + 25 * 3600_000);
      await page.getByRole('link', { name: 'Messages' }).first().click();
      const banner = page.getByTestId('domain-health-banner');
      await banner.waitFor();
      assert.match(await banner.textContent() ?? '', new RegExp(`${DOMAIN}: ${dkim.name.replace(/\./g, '\\.')}\\.`));
      if (shots) await shotBothWidths(page, 'domain-health-banner');
      await banner.getByRole('link', { name: DOMAIN }).click();
      await page.getByRole('heading', { name: DOMAIN, level: 1 }).waitFor();
      dnsServer.publish([dkim]);
      await recheck(Date.now() + 50 * 3600_000);
      await page.getByRole('link', { name: 'Messages' }).first().click();
      await page.getByRole('heading', { name: 'Messages', level: 1 }).waitFor();
      await eventually(page, async () => (await banner.count()) === 0, { reload: false });
    });

    it('rotates the DKIM key: the new record beside the current one, signing switches once it is published, the old one has a removal date', async () => {
      await page.goto(`${base}/app/domains/${DOMAIN}`);
      const card = page.getByTestId('dkim-rotation');
      const oldSelector = /^([^.]+)\._domainkey\./.exec(records.find((r) => r.purpose === 'dkim')!.name)![1];
      await card.getByRole('button', { name: 'Rotate DKIM key' }).click();
      const pending = card.locator('.rotation-pending');
      await pending.waitFor();
      const selector = (await pending.getAttribute('data-selector')) ?? '';
      assert.notEqual(selector, oldSelector);
      const name = (await pending.locator('.record-field code').first().textContent()) ?? '';
      const value = (await pending.locator('.record-value').textContent()) ?? '';
      assert.equal(name, `${selector}._domainkey.${DOMAIN}`);
      if (shots) await shotBothWidths(page, 'dkim-rotation-pending');
      dnsServer.set(name, 'TXT', value);
      await page.getByRole('button', { name: 'Verify' }).click();
      const retired = card.locator(`.rotation-retired li[data-selector="${oldSelector}"]`);
      await retired.waitFor();
      assert.match(await retired.textContent() ?? '', /you may remove it after that/);
      assert.equal(await card.locator('.rotation-pending').count(), 0);
      assert.equal(await card.getByRole('button', { name: 'Rotate DKIM key' }).count(), 1);
      const dkimRecord = page.locator('li.record[data-purpose="dkim"]');
      assert.match(await dkimRecord.locator('code').first().textContent() ?? '', new RegExp(`^${selector}\\._domainkey`));
      assert.equal(await dkimRecord.getAttribute('data-state'), 'ok', 'the key now signing is the one checked');
      if (shots) await shotBothWidths(page, 'dkim-rotation-done');
    });

    it('has the Send-As doctor name the failing step and list the SMTP sessions', async () => {
      await page.getByRole('link', { name: 'Profile & SMTP' }).first().click();
      await page.getByRole('link', { name: 'Ask the doctor' }).click();
      await page.waitForURL(/\/app\/doctor$/);
      // The nodemailer session above, signed in with the Gmail key.
      const session = page.locator('table[aria-label="Recent SMTP sessions"] tbody tr').first();
      await session.getByText(OWNER.email).waitFor();
      assert.equal(await session.getAttribute('data-result'), 'ok');
      await page.getByLabel('Secret key').fill('mr_not-the-right-key-at-all');
      await page.getByRole('button', { name: 'Run the check' }).click();
      const report = page.getByTestId('doctor-report');
      await report.getByText('Something needs fixing', { exact: true }).waitFor();
      assert.match(await report.locator('.notice-text').first().textContent() ?? '', /^Gmail would refuse these settings: /);
      // This world's certificate is self-signed: the doctor stops there, as Gmail would, before trying the key.
      const ssl = report.locator('section[data-connection="ssl"]');
      assert.equal(await ssl.locator('li[data-step="tls"]').getAttribute('data-status'), 'passed');
      assert.equal(await ssl.locator('li[data-step="certificate-trusted"]').getAttribute('data-status'), 'failed');
      assert.equal(await ssl.locator('li[data-step="auth"]').getAttribute('data-status'), 'skipped');
      if (shots) await shotBothWidths(page, 'doctor');
    });

    it('lets an API user create a key in the UI, call the API with it, and revoke it', async () => {
      await page.getByRole('link', { name: 'Profile & SMTP' }).first().click();
      await page.getByLabel('New key name').fill('billing app');
      await page.getByRole('button', { name: 'Create secret key' }).click();
      const secret = (await page.getByTestId('new-secret').textContent()) ?? '';
      const account = await fetch(`${base}/api/v1/account`, { headers: { authorization: `Bearer ${secret}` } });
      assert.equal(account.status, 200);
      assert.equal(((await account.json()) as { email: string }).email, OWNER.email);
      const sent = await fetch(`${base}/api/v1/messages`, {
        method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ from: `billing@${DOMAIN}`, to: RECIPIENT, subject: 'Invoice 7', text: 'Attached.', tags: ['invoice'] }),
      });
      assert.equal(sent.status, 202, await sent.clone().text());
      const row = page.locator('tr', { hasText: 'billing app' });
      await row.getByRole('button', { name: 'Revoke' }).click();
      await row.getByRole('button', { name: 'Revoke' }).click();
      await row.waitFor({ state: 'detached' });
      const refused = await fetch(`${base}/api/v1/account`, { headers: { authorization: `Bearer ${secret}` } });
      assert.equal(refused.status, 401);
    });

    it('adds and removes a suppression', async () => {
      await page.getByRole('link', { name: 'Suppressions' }).click();
      await page.getByLabel('Email address').fill('gone@inbox.example');
      await page.getByRole('button', { name: 'Add to list' }).click();
      const row = page.locator('tr[data-address="gone@inbox.example"]');
      await row.getByText('Added by hand').waitFor();
      await page.getByLabel('Email address').fill('also-gone@inbox.example');
      await page.getByRole('button', { name: 'Add to list' }).click();
      await page.locator('tr[data-address="also-gone@inbox.example"]').waitFor();
      if (shots) await shotBothWidths(page, 'suppressions');
      await row.getByRole('button', { name: 'Remove' }).click();
      await row.getByRole('button', { name: 'Remove' }).click();
      await row.waitFor({ state: 'detached' });
    });

    it('adds a webhook endpoint, sends it a test event and lists the delivery', async () => {
      await page.getByRole('link', { name: 'Webhooks' }).click();
      await page.getByLabel('Endpoint URL').fill(hooks.url);
      await page.getByRole('checkbox', { name: /deferred/ }).check();
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      const card = page.locator('section.webhook', { hasText: hooks.url });
      await card.getByRole('button', { name: 'Send test event' }).click();
      await eventually(page, async () => hooks.received.length > 0, { reload: false });
      await eventually(page, async () => (await card.locator('tbody tr').count()) > 0);
      if (shots) await shotBothWidths(page, 'webhooks');
    });

    it('charts the events and shows usage against the daily limit', async () => {
      await page.getByRole('link', { name: 'Usage & stats' }).click();
      const meter = page.getByTestId('usage-meter');
      await meter.getByText('of 750 emails in the last 24 hours').waitFor();
      // The order over SMTP, the mistyped address and the invoice over the API.
      assert.equal(await meter.getByRole('meter').getAttribute('aria-valuenow'), '3');
      await page.locator('.chart canvas').waitFor();
      await eventually(page, async () => (await page.locator('[data-series="delivered"] .stat-value').textContent()) !== '0');
      await page.locator('.chart canvas').waitFor();
      // Without the pointer on the chart the legend shows the range's totals, never blanks.
      const legend = await page.locator('.chart .u-legend .u-series').evaluateAll((rows) => rows.map((row) => [row.querySelector('.u-label')?.textContent ?? '', row.querySelector('.u-value')?.textContent ?? '']));
      assert.deepEqual(legend.find(([label]) => label === 'Delivered'), ['Delivered', await page.locator('[data-series="delivered"] .stat-value').textContent()]);
      assert.ok(legend.every(([, value]) => value.trim() !== '' && value !== '--'), JSON.stringify(legend));
      if (shots) await shotBothWidths(page, 'usage');
      await page.getByRole('button', { name: '30 days' }).click();
      await page.locator('.chart canvas').waitFor();
    });

    it('opens on an overview: sending against the limit, delivery rate, reasons, queue, certificate, domains', async () => {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview' }).click();
      await page.waitForURL(/\/app\/overview$/);
      const tiles = page.getByTestId('overview-tiles');
      await eventually(page, async () => /^Delivery rate66\.7%2 delivered/.test((await tiles.getByTestId('delivery-rate').textContent()) ?? ''));
      // The guide's order, the bounce explained in plain words, and the mail the DKIM rotation sent.
      assert.match(await tiles.textContent() ?? '', /Sent today3of 750 allowed in 24 hours/);
      assert.match(await page.getByTestId('certificate').textContent() ?? '', /Self-signed/);
      await page.getByTestId('domains-ok').waitFor();
      assert.match(await page.locator('.reasons[data-status="bounced"]').textContent() ?? '', /1×DNS MX lookup for inbox\.exmaple: the domain does not exist/);
      if (shots) await shotBothWidths(page, 'overview');
    });

    it('links the API reference, a page that renders the OpenAPI document', async () => {
      const [reference] = await Promise.all([
        browser.context.waitForEvent('page'),
        page.getByTestId('api-reference-link').click(),
      ]);
      const referenceErrors = watchErrors(reference);
      await reference.locator('.swagger-ui .info .title').filter({ hasText: 'Mailroom API' }).waitFor();
      await reference.locator('.opblock-summary-path', { hasText: '/api/v1/messages' }).first().waitFor();
      if (shots) await shotBothWidths(reference, 'api-reference');
      await reference.close();
      assert.deepEqual(referenceErrors, []);
    });

    it('shows the admin every account\'s messages, with an account filter', async () => {
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(/\/login$/);
      await signIn(page, ADMIN);
      await page.waitForURL(/\/app\/overview$/);
      await page.getByTestId('all-accounts').waitFor();
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Messages' }).click();
      const row = page.locator('tr[data-message-id]', { hasText: 'Your order #1001' });
      assert.equal(await row.locator('td[data-label="Account"]').textContent(), OWNER.email);
      await page.getByLabel('Account').selectOption(ADMIN.email);
      await page.getByRole('button', { name: 'Search' }).click();
      await page.waitForURL(/\?account=ops%40mailroom\.example/);
      await page.getByText('No messages match these filters').waitFor();
      await page.getByLabel('Account').selectOption(OWNER.email);
      await page.getByRole('button', { name: 'Search' }).click();
      await row.waitFor();
      if (shots) await shotBothWidths(page, 'messages-admin');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(/\/login$/);
      await signIn(page, OWNER);
      await page.waitForURL(/\/app\/overview$/);
    });

    it('can be used from the keyboard, with visible focus', async () => {
      await page.getByRole('link', { name: 'Profile & SMTP' }).first().click();
      await page.getByLabel('New key name').waitFor();
      assert.equal(await page.evaluate('document.activeElement.id'), 'main', 'after navigating, focus starts at the page');
      await page.reload();
      await page.getByLabel('New key name').waitFor();
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate('document.activeElement.textContent'), 'Skip to content');
      await page.keyboard.press('Enter');
      assert.equal(await page.evaluate('document.activeElement.id'), 'main');

      await page.getByLabel('New key name').focus();
      await page.keyboard.type('keyboard');
      await page.keyboard.press('Enter');
      await page.getByTestId('new-secret').waitFor();
      // Wait with a locator, not waitForFunction: the page's CSP forbids the eval that a string predicate needs.
      await page.locator('[aria-label="Your new secret key"]:focus').waitFor({ timeout: 5000 }).catch(() => {});
      assert.equal(await page.evaluate('document.activeElement.getAttribute("aria-label")'), 'Your new secret key', 'focus moves to the new secret');
      const row = page.locator('tr', { hasText: 'keyboard' });
      await row.getByRole('button', { name: 'Revoke' }).focus();
      assert.notEqual(await page.evaluate('getComputedStyle(document.activeElement).boxShadow'), 'none', 'a focus ring is drawn');
      await page.keyboard.press('Enter');
      // The confirmation renders, then takes focus, after the key press returns.
      await page.locator('button:focus', { hasText: 'Revoke' }).waitFor({ timeout: 5000 }).catch(() => {});
      assert.equal(await page.evaluate('document.activeElement.textContent'), 'Revoke', 'focus moves to the confirmation');
      await page.keyboard.press('Enter');
      await row.waitFor({ state: 'detached' });

      await page.setViewportSize({ width: 390, height: 844 });
      const menu = page.getByRole('button', { name: 'Menu' });
      await menu.focus();
      await page.keyboard.press('Enter');
      assert.equal(await menu.getAttribute('aria-expanded'), 'true');
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).waitFor();
      await page.keyboard.press('Escape');
      assert.equal(await menu.getAttribute('aria-expanded'), 'false');
      await page.setViewportSize({ width: 1280, height: 800 });
    });

    it('ran without a script error', () => {
      assert.deepEqual(errors, []);
    });
  });
});

/** The records as the page shows them, read from the DOM the user copies from. */
async function readRecords(page: Page): Promise<DnsRecordToPublish[]> {
  const items = page.locator('li.record');
  const out: DnsRecordToPublish[] = [];
  for (let i = 0; i < (await items.count()); i++) {
    const item = items.nth(i);
    const codes = item.locator('.record-field dd code');
    out.push({
      purpose: (await item.getAttribute('data-purpose')) as RecordPurpose,
      type: ((await item.locator('.record-type').textContent()) ?? '') as DnsRecordToPublish['type'],
      name: (await codes.first().textContent()) ?? '',
      value: (await codes.last().textContent()) ?? '',
    });
  }
  return out;
}

/** Screenshots at desktop and phone width, then back to desktop. */
async function shotBothWidths(page: Page, name: string): Promise<void> {
  await page.waitForLoadState('networkidle');
  await page.evaluate('window.scrollTo(0, 0)');
  await screenshot(page, name);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(150);
  await page.evaluate('window.scrollTo(0, 0)');
  await screenshot(page, name);
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.waitForTimeout(100);
}

/** Polls a condition (reloading the page between tries unless told not to) until it holds. */
async function eventually(page: Page, condition: () => Promise<boolean>, { timeoutMs = 20_000, reload = true } = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await page.waitForTimeout(400);
    if (reload) {
      await page.reload();
      await page.waitForLoadState('networkidle');
    }
  }
}

/**
 * Connects nodemailer to the host by name, resolved through the test DNS
 * server (nodemailer's own lookups would ask the system's DNS, which does not know mailroom.test).
 */
function dialThroughDns(dnsAddress: string) {
  const resolver = new dns.promises.Resolver();
  resolver.setServers([dnsAddress]);
  return (options: { host?: string; port?: number | string }, callback: (error: Error | null, socketOptions?: { connection: net.Socket }) => void) => {
    resolver.resolve4(options.host ?? '').then(([ip]) => {
      const socket = net.connect(Number(options.port), ip, () => callback(null, { connection: socket }));
      socket.once('error', (error) => callback(error));
    }, (error: Error) => callback(error));
  };
}

/** A webhook endpoint on loopback that answers 200 and keeps what it got. */
async function startHookReceiver(): Promise<{ url: string; received: Array<{ body: string }>; close(): Promise<void> }> {
  const received: Array<{ body: string }> = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push({ body });
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/mailroom`, received,
    close: () => new Promise<void>((done) => { server.closeAllConnections(); server.close(() => done()); }),
  };
}
