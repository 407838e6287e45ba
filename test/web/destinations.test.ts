/**
 * The Destinations page in a real browser: an administrator sees each site's limits and the
 * reply that slowed it down, pins a limit and lifts it again; an account that is not an
 * administrator has no such page in its navigation.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { createAccount } from '../../src/accounts/accounts.ts';
import { addSiteStats, applySignal, readSites } from '../../src/queue/shaping-store.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { describeEachStore } from '../support/stores.ts';
import { GMAIL_RATE_LIMITED } from '../support/throttling-mx.ts';
import { browserSkipReason, launchBrowser, screenshot, openDashboard, signIn, type TestBrowser } from './browser.ts';

const ADMIN = { email: 'ops@mailroom.example', password: 'admin-password-1' };
const USER = { email: 'user@shop.example', password: 'user-password-1' };

const skip = browserSkipReason();
let browser: TestBrowser;

describe('Destinations page in a browser', { skip }, () => {
  before(async () => { browser = await launchBrowser(); });
  after(async () => { await browser?.close(); });

  describeEachStore('destinations', (engine) => {
    let mailroom: TestMailroom;
    let page: Page;
    let errors: string[];
    let base: string;

    before(async () => {
      mailroom = await startTestMailroom(engine, { MAILROOM_ROLES: 'http' });
      await createAccount(mailroom.running.store, { ...ADMIN, dailyLimit: 1000, isAdmin: true });
      await createAccount(mailroom.running.store, { ...USER, dailyLimit: 1000 });
      const now = Date.now();
      await mailroom.running.store.db.transaction().execute(async (tx) => {
        await applySignal(tx, engine, { site: 'google', signal: 'throttle', suspendMs: 0, now, observedRate: 20, defaultConcurrency: 20, reply: GMAIL_RATE_LIMITED, rule: 'gmail-rate-limit' });
        await addSiteStats(tx, engine, { now, sites: [
          { site: 'google', delivered: 1200, deferred: 3, bounced: 1, throttled: 17, held: 240, domains: ['gmail.com', 'shop-customer.example'] },
          { site: 'mx1.quiet.example,mx2.quiet.example', delivered: 12, deferred: 0, bounced: 0, throttled: 0, held: 0, domains: ['quiet.example'] },
        ] });
      });
      ({ page, base, errors } = await openDashboard(browser, mailroom.port('http')));
    });
    after(async () => {
      await page?.close();
      await mailroom?.stop();
    });

    it('shows each site, its limits and the reply that slowed it down', async () => {
      await signIn(page, ADMIN, base);
      await page.waitForURL(/\/app\//);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Destinations' }).click();
      await page.waitForURL(/\/app\/admin\/destinations$/);
      const google = page.locator('tr[data-site="google"]');
      await google.getByTestId('limits').getByText('14 connections · 14 msg/s').waitFor();
      await google.getByText('Slowed by the site').waitFor();
      assert.match(await google.getByTestId('why').textContent() ?? '', /Slowed down .*421 4\.7\.28 /);
      assert.match(await google.textContent() ?? '', /gmail\.com/);
      const quiet = page.locator('tr[data-site="mx1.quiet.example,mx2.quiet.example"]');
      await quiet.getByText('no rate limit').waitFor();
      await quiet.getByText('Default').waitFor();
      if (engine === 'sqlite') {
        await screenshot(page, 'destinations');
        const phone = await browser.newPage(375);
        await phone.goto(page.url());
        await phone.locator('tr[data-site="google"]').waitFor();
        await screenshot(phone, 'destinations');
        await phone.close();
      }
    });

    it('pins a limit (refusing a bad one before sending it) and lifts the pin', async () => {
      const google = page.locator('tr[data-site="google"]');
      await google.getByRole('button', { name: 'Pin limits of google' }).click();
      const form = google.getByRole('form', { name: 'Pin limits of google' });
      await form.getByLabel('Connections').fill('3');
      await form.getByLabel('Messages per second').fill('-2');
      await form.getByRole('button', { name: 'Save' }).click();
      // The browser itself refuses a rate below the minimum: nothing is sent.
      assert.equal(await form.getByLabel('Messages per second').evaluate((input) => (input as unknown as { validity: { valid: boolean } }).validity.valid), false);
      assert.equal((await readSites(mailroom.running.store.db, 'google'))[0].pinnedRate, null);
      await form.getByLabel('Messages per second').fill('2.5');
      await form.getByRole('button', { name: 'Save' }).click();
      await google.getByTestId('limits').getByText('3 connections · 2.5 msg/s').waitFor();
      await google.getByText('Pinned', { exact: true }).first().waitFor();
      const [stored] = await readSites(mailroom.running.store.db, 'google');
      assert.equal(stored.pinnedConcurrency, 3);
      assert.equal(stored.pinnedRate, 2.5);

      await google.getByRole('button', { name: 'Unpin google' }).click();
      await google.getByTestId('limits').getByText('14 connections · 14 msg/s').waitFor();
      assert.deepEqual(errors, []);
    });

    it('is not offered to an account that is not an administrator', async () => {
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(/\/login$/);
      await signIn(page, USER, base);
      await page.waitForURL(/\/app\//);
      assert.equal(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Destinations' }).count(), 0);
    });
  });
});
