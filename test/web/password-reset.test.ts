/**
 * The login page tells a user who forgot the password to ask an
 * administrator; in a real browser, the administrator resets it from the
 * Accounts page, reads the new password once, and the user signs in with it
 * (the old one no longer works). Also: failed logins from many addresses
 * appear as a notice on the profile page, and the profile page lists the encrypted
 * connections first, and "Unsecured" last with its clear-text warning.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { createAccount } from '../../src/accounts/accounts.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { describeEachStore } from '../support/stores.ts';
import { openDialogue } from '../support/smtp-dialogue.ts';
import { browserSkipReason, launchBrowser, openDashboard, signIn, type TestBrowser } from './browser.ts';

const ADMIN = { email: 'root@mailroom.example', password: 'admin-password-1' };
const USER = { email: 'forgetful@shop.example', password: 'forgotten-password-1' };

let browser: TestBrowser;

describe('password reset by an administrator, in a browser', { skip: browserSkipReason() }, () => {
  before(async () => { browser = await launchBrowser(); });
  after(async () => { await browser?.close(); });

  describeEachStore('dashboard', (engine) => {
    let mailroom: TestMailroom;
    let page: Page;
    let base: string;
    let errors: string[];

    before(async () => {
      mailroom = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp,http' });
      await createAccount(mailroom.running.store, { ...ADMIN, dailyLimit: 100, isAdmin: true });
      await createAccount(mailroom.running.store, { ...USER, dailyLimit: 100 });
      ({ page, base, errors } = await openDashboard(browser, mailroom.port('http')));
    });
    after(async () => {
      await page?.close();
      await mailroom?.stop();
    });

    it('the admin resets a password from the Accounts page; the user signs in with the new one only', async () => {
      await signIn(page, ADMIN, base);
      await page.waitForURL(/\/app\//);
      await page.getByRole('link', { name: 'Accounts' }).click();
      const row = page.locator(`tr[data-account="${USER.email}"]`);
      await row.getByRole('button', { name: `Reset the dashboard password of ${USER.email}` }).click();
      await row.getByRole('button', { name: 'Yes, reset it' }).click();
      const shown = row.locator('code[data-value="reset-password-value"]');
      await shown.waitFor();
      const password = (await shown.textContent() ?? '').trim();
      assert.match(password, /^\S{8,}$/, `the new password is shown: "${password}"`);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(/\/login$/);

      await signIn(page, USER, base);
      await page.getByRole('alert').filter({ hasText: 'do not match' }).waitFor();
      await signIn(page, { email: USER.email, password }, base);
      await page.waitForURL(/\/app\/overview$/); // what a user sees first
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Profile & SMTP' }).click();
      await page.waitForURL(/\/app\/profile$/);
      assert.equal(await page.getByTestId('signed-in-email').textContent(), USER.email);
    });

    it('the profile page lists SSL and STARTTLS before "Unsecured", which carries the clear-text warning', async () => {
      const rows = page.locator('table.ports-table tbody tr');
      await rows.first().waitFor();
      const order = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-connection')));
      assert.deepEqual(order, ['ssl', 'starttls', 'unsecured']);
      const warning = page.locator('tr[data-connection="unsecured"]').getByTestId('clear-text-warning');
      assert.match(await warning.textContent() ?? '', /crosses the network in clear text/);
      assert.deepEqual(errors, []);
    });

    it('failed SMTP logins for the account from many addresses show as a notice on its profile page', async () => {
      for (let ip = 2; ip < 12; ip++) {
        const client = await openDialogue(mailroom.port('submission'), { localAddress: `127.0.0.${ip}` });
        await client.ehlo();
        assert.match(await client.say(`AUTH PLAIN ${Buffer.from(`\0${USER.email}\0guess-${ip}`).toString('base64')}`), /^535 /);
        client.close();
      }
      await page.reload();
      const notice = page.getByTestId('login-alerts');
      await notice.waitFor();
      assert.match(await notice.textContent() ?? '', new RegExp(`failed SMTP logins for ${USER.email.replace('.', '\\.')}`));
      assert.deepEqual(errors, []);
    });
  });
});
