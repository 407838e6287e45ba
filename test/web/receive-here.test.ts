/**
 * "Receive here" in a real browser: the user turns it on for an address on a
 * verified domain and reads the MX record to publish; Gmail's "Send mail as"
 * confirmation then arrives at the mx listener over SMTP, and the page shows
 * it by itself (it refreshes), the confirmation code large and copyable and
 * the confirmation link beside it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { createAccount } from '../../src/accounts/accounts.ts';
import { addDomain, forceVerifyDomain, getDomainRow } from '../../src/domains/domains.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { describeEachStore } from '../support/stores.ts';
import { smtpTransaction } from '../support/delivery.ts';
import { GMAIL_CODE, GMAIL_LINK, gmailConfirmation } from '../support/gmail-confirmation.ts';
import { browserSkipReason, launchBrowser, openDashboard, screenshot, signIn, type TestBrowser } from './browser.ts';

const OWNER = { email: 'owner@alias.example', password: 'owner-password-1' };
const ALIAS = 'hello@alias.example';
let browser: TestBrowser;

describe('receive here in a browser', { skip: browserSkipReason() }, () => {
  before(async () => { browser = await launchBrowser(); });
  after(async () => { await browser?.close(); });

  describeEachStore('caught Gmail confirmation', (engine) => {
    let mailroom: TestMailroom;
    let page: Page;
    let errors: string[];
    let base: string;

    before(async () => {
      mailroom = await startTestMailroom(engine, { MAILROOM_ROLES: 'http,mx', MAILROOM_MX_PORT: '0', MAILROOM_MX_GREETING_DELAY: 'off' });
      const { account } = await createAccount(mailroom.running.store, { email: OWNER.email, password: OWNER.password, dailyLimit: 100 });
      await addDomain(mailroom.running.store, account.id, 'alias.example', mailroom.config.hostname);
      await forceVerifyDomain(mailroom.running.store, await getDomainRow(mailroom.running.store, 'alias.example', null));
      base = `http://127.0.0.1:${mailroom.port('http')}`;
      await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
      ({ page, errors } = await openDashboard(browser, mailroom.port('http')));
      await signIn(page, OWNER, base);
      await page.waitForURL(/\/app\//);
    });
    after(async () => {
      await page?.close();
      await mailroom?.stop();
    });

    it('turns it on from Settings and shows the MX record to publish', async () => {
      const settings = page.getByRole('navigation', { name: 'Main' }).getByRole('list', { name: 'Settings' });
      await settings.getByRole('link', { name: 'Receive here' }).click();
      await page.waitForURL(/\/app\/receive-here$/);
      await page.getByText('Nothing caught yet').waitFor();
      await page.getByLabel('Address').fill('hello@elsewhere.example');
      await page.getByRole('button', { name: 'Turn on' }).click();
      await page.locator('.field-error').getByText(/not on a domain of your account/).waitFor();
      errors.splice(0); // the browser logs that refusal's 400, which this step asked for
      await page.getByLabel('Address').fill(ALIAS);
      await page.getByRole('button', { name: 'Turn on' }).click();
      const record = page.locator(`[data-address="${ALIAS}"]`);
      await record.waitFor();
      assert.equal(await record.locator('[data-value="mx-type"]').textContent(), 'MX');
      assert.equal(await record.locator('[data-value="mx-name"]').textContent(), 'alias.example');
      assert.equal(await record.locator('[data-value="mx-value"]').textContent(), 'mailroom.test');
      assert.equal(await record.locator('[data-value="mx-priority"]').textContent(), '10');
    });

    it("shows Gmail's confirmation once it arrives, with the code and link to copy", async () => {
      const sent = await smtpTransaction(mailroom.port('mx'), { from: 'forwarding-noreply@google.com', to: [ALIAS] }, gmailConfirmation(ALIAS));
      assert.ok(sent.ok, JSON.stringify(sent));
      // No reload: the page looks again by itself while the user waits for Gmail's mail.
      const code = page.getByTestId('confirmation-code');
      await code.waitFor({ timeout: 15_000 });
      assert.equal(await code.textContent(), GMAIL_CODE);
      const item = page.locator('li.caught-item');
      await item.getByRole('heading', { name: `(#${GMAIL_CODE}) Gmail Confirmation - Send Mail as ${ALIAS}` }).waitFor();
      assert.equal(await page.getByTestId('confirmation-link').getAttribute('href'), GMAIL_LINK);
      assert.equal(await page.getByTestId('confirmation-link').getAttribute('rel'), 'noopener noreferrer');
      await item.getByRole('button', { name: 'Copy confirmation code' }).click();
      await item.getByText('Copied').waitFor();
      assert.equal(await page.evaluate('navigator.clipboard.readText()'), GMAIL_CODE);
      await item.getByText('Show the message').click();
      await item.locator('pre.caught-body').getByText(/You have requested to add hello@alias\.example/).waitFor();
      if (engine === 'sqlite') await screenshot(page, 'receive-here');
      assert.deepEqual(errors, []);
    });
  });
});
