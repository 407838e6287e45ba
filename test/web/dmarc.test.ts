/**
 * A domain's DMARC reports page in a real browser: reached from the domain's page, it shows the
 * totals, each sending source with what passed and failed alignment, the sources that send as
 * the domain without passing flagged and explained, the report address, and the reports.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { createAccount } from '../../src/accounts/accounts.ts';
import { addDomain } from '../../src/domains/domains.ts';
import { parseDmarcReport } from '../../src/domains/dmarc-report.ts';
import { storeDmarcReport } from '../../src/domains/dmarc-reports.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { describeEachStore } from '../support/stores.ts';
import { recentReportXml } from '../support/dmarc-reports.ts';
import { browserSkipReason, launchBrowser, openDashboard, screenshot, signIn, type TestBrowser } from './browser.ts';

const USER = { email: 'owner@reports.example', password: 'owner-password-1' };
const DOMAIN = 'reports.example';

const skip = browserSkipReason();
let browser: TestBrowser;

describe('DMARC reports page in a browser', { skip }, () => {
  before(async () => { browser = await launchBrowser(); });
  after(async () => { await browser?.close(); });

  describeEachStore('dmarc', (engine) => {
    let mailroom: TestMailroom;
    let page: Page;
    let errors: string[];
    let base: string;

    before(async () => {
      mailroom = await startTestMailroom(engine, { MAILROOM_ROLES: 'http' });
      const store = mailroom.running.store;
      const { account } = await createAccount(store, { ...USER, dailyLimit: 1000 });
      const { domain } = await addDomain(store, account.id, DOMAIN, mailroom.config.hostname);
      const row = (await store.db.selectFrom('domains').selectAll().where('id', '=', domain.id).executeTakeFirstOrThrow());
      for (const provider of ['google', 'microsoft'] as const) {
        await storeDmarcReport(store, row, parseDmarcReport(recentReportXml(provider, DOMAIN)), Date.now());
      }
      ({ page, base, errors } = await openDashboard(browser, mailroom.port('http')));
    });
    after(async () => {
      await page?.close();
      await mailroom?.stop();
    });

    it('shows each source with what passed, and flags the ones sending as the domain without passing', async () => {
      await signIn(page, USER, base);
      await page.waitForURL(/\/app\//);
      await page.goto(`${base}/app/domains/${DOMAIN}`);
      await page.getByRole('link', { name: 'See DMARC reports' }).click();
      await page.waitForURL(new RegExp(`/app/domains/${DOMAIN.replace('.', '\\.')}/dmarc$`));

      const sources = page.getByRole('table', { name: 'Sending sources' });
      const spoofer = sources.locator('tr[data-source="203.0.113.66"]');
      await spoofer.waitFor();
      assert.equal(await spoofer.getAttribute('data-flagged'), 'true');
      await spoofer.getByText('Not authenticated').waitFor();
      assert.equal(await spoofer.locator('td[data-label="Failed"]').textContent(), '5');
      const ours = sources.locator('tr[data-source="198.51.100.7"]');
      assert.equal(await ours.getAttribute('data-flagged'), 'false');
      assert.equal(await ours.locator('td[data-label="Passed"]').textContent(), '59');
      assert.match(await ours.locator('td[data-label="Reported by"]').textContent() ?? '', /Outlook\.com, google\.com/);
      await page.getByText(`2 sources sent as ${DOMAIN} without passing`).waitFor();
      assert.match(await page.getByTestId('dmarc-totals').textContent() ?? '', /Reports\s*2.*Messages\s*75.*Passed\s*61.*Failed\s*14/s);
      assert.match(await page.locator('[data-value="dmarc-address"]').textContent() ?? '', new RegExp(`dmarc@bounces\\.${DOMAIN.replace('.', '\\.')}`));
      const reports = page.getByRole('table', { name: 'Reports received' });
      await reports.locator('tr[data-report="4820391847729123456"]').getByText('google.com').waitFor();
      await reports.locator('tr[data-report="7c3d2b0e9a5f4e1d8b6a0c4f2e7d9a13"]').getByText('Outlook.com').waitFor();
      if (engine === 'sqlite') await screenshot(page, 'dmarc-reports');
      assert.deepEqual(errors, []);
    });

    it('a period with no reports says so', async () => {
      const store = mailroom.running.store;
      // Yesterday's reports, moved back a fortnight: outside the last 7 days, inside the last 30.
      await store.db.updateTable('dmarc_reports').set((eb) => ({ end_at: eb('end_at', '-', 14 * 86_400_000) })).execute();
      await page.getByLabel('Period').selectOption('7');
      await page.getByText('No reports yet').waitFor();
      await page.getByLabel('Period').selectOption('30');
      await page.locator('tr[data-source="203.0.113.66"]').waitFor();
      assert.deepEqual(errors, []);
    });
  });
});
