/**
 * With a bare host name the dashboard does not hand out settings it knows are
 * wrong: the profile's SMTP server and the domain's SPF and return-path
 * records say "not usable yet", with the fix; the overview says so first.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { createAccount } from '../../src/accounts/accounts.ts';
import { addDomain } from '../../src/domains/domains.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { describeEachStore } from '../support/stores.ts';
import { browserSkipReason, launchBrowser, screenshot, watchErrors, signIn, type TestBrowser } from './browser.ts';

const USER = { email: 'owner@bare.example', password: 'owner-password-1' };

describe('dashboard with a host name that is not fully qualified', { skip: browserSkipReason() }, () => {
  let browser: TestBrowser;
  before(async () => { browser = await launchBrowser(); });
  after(async () => { await browser?.close(); });

  describeEachStore('not usable yet', (engine) => {
    let mailroom: TestMailroom;
    let page: Page;
    let errors: string[];

    before(async () => {
      mailroom = await startTestMailroom(engine, { MAILROOM_HOSTNAME: 'vm' });
      const { account } = await createAccount(mailroom.running.store, { ...USER, dailyLimit: 100 });
      await addDomain(mailroom.running.store, account.id, 'bare.example', 'vm');
      page = await browser.newPage(1280);
      errors = watchErrors(page);
      await signIn(page, USER, `http://127.0.0.1:${mailroom.port('http')}`);
      await page.waitForURL(/\/app\/overview$/);
    });
    after(async () => {
      await page?.close();
      await mailroom?.stop();
    });

    it('says so on the overview, the profile and the domain page', async () => {
      await page.getByText('Server name not usable yet').waitFor();
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Profile & SMTP' }).click();
      assert.match(await page.getByTestId('smtp-host-warning').textContent() ?? '', /^Not usable yet\. .*"vm" is not a fully qualified name/);
      if (engine === 'sqlite') await screenshot(page, 'profile-bare-hostname');
      await page.goto(`http://127.0.0.1:${mailroom.port('http')}/app/domains/bare.example`);
      await page.getByText('Records not usable yet').waitFor();
      for (const purpose of ['spf', 'return-path']) {
        await page.locator(`li.record[data-purpose="${purpose}"]`).getByText('Not usable yet', { exact: true }).waitFor();
      }
      assert.equal(await page.locator('li.record[data-purpose="dkim"]').getByText('Not usable yet', { exact: true }).count(), 0);
      if (engine === 'sqlite') {
        await screenshot(page, 'domain-bare-hostname');
        await page.setViewportSize({ width: 390, height: 844 });
        await screenshot(page, 'domain-bare-hostname');
      }
      assert.deepEqual(errors, []);
    });
  });
});
