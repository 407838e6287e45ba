/**
 * The template editor in a real browser: the live preview renders on the
 * server as the user types (HTML escaped, in a script-less sandboxed frame),
 * shows a syntax error with its line and column, and saving creates the
 * template, then a new version. And the reports page: counts by tag, and
 * the same numbers downloaded as CSV.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { readFile } from 'node:fs/promises';
import { createAccount } from '../../src/accounts/accounts.ts';
import { addDomain, forceVerifyDomain, getDomainRow } from '../../src/domains/domains.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { describeEachStore } from '../support/stores.ts';
import { browserSkipReason, launchBrowser, screenshot, signIn, watchErrors, type TestBrowser } from './browser.ts';

const OWNER = { email: 'writer@shop.example', password: 'writer-password-1' };
let browser: TestBrowser;

describe('template editor in a browser', { skip: browserSkipReason() }, () => {
  before(async () => { browser = await launchBrowser(); });
  after(async () => { await browser?.close(); });

  describeEachStore('templates page', (engine) => {
    let mailroom: TestMailroom;
    let page: Page;
    let errors: string[];
    let accountId: string;

    before(async () => {
      mailroom = await startTestMailroom(engine, { MAILROOM_ROLES: 'http' });
      accountId = (await createAccount(mailroom.running.store, { email: OWNER.email, password: OWNER.password, dailyLimit: 100 })).account.id;
      page = await browser.newPage();
      errors = watchErrors(page);
      await signIn(page, OWNER, `http://127.0.0.1:${mailroom.port('http')}`);
      await page.waitForURL(/\/app\//);
    });
    after(async () => {
      await page?.close();
      await mailroom?.stop();
    });

    it('previews as the user types, shows errors with line and column, and saves versions', async () => {
      await page.goto(`http://127.0.0.1:${mailroom.port('http')}/app/templates`);
      await page.getByLabel('Name').fill('welcome');
      await page.getByLabel('Subject').fill('Welcome, {{ name }}');
      await page.getByLabel('HTML body').fill('<p>Hi {{ name }}</p>');
      await page.getByLabel('Sample variables (JSON)').fill('{"name": "<Ann>"}');
      await page.getByTestId('preview-subject').filter({ hasText: 'Welcome, <Ann>' }).waitFor();
      const frame = page.frameLocator('iframe[title="HTML preview"]');
      assert.equal(await frame.locator('p').textContent(), 'Hi <Ann>', 'printed as text: the HTML output was escaped');
      assert.equal(await page.locator('iframe[title="HTML preview"]').getAttribute('sandbox'), '', 'no scripts in the preview');
      if (engine === 'sqlite') await screenshot(page, 'templates');

      await page.getByLabel('HTML body').fill('<p>Hi {{ name }}</p>\n{% if vip %}');
      await page.getByTestId('template-preview').getByText(/html at line 2, column 1/).waitFor();

      await page.getByLabel('HTML body').fill('<p>Hi {{ name }}</p>');
      await page.getByRole('button', { name: 'Create template' }).click();
      await page.getByText('Saved welcome, version 1.').waitFor();
      await page.getByLabel('Subject').fill('Hello, {{ name }}');
      await page.getByRole('button', { name: 'Save new version' }).click();
      await page.getByText('Saved welcome, version 2.').waitFor();

      const stored = await mailroom.running.store.db.selectFrom('templates').select(['name', 'current_version']).where('account_id', '=', accountId).execute();
      assert.deepEqual(stored.map((t) => [t.name, Number(t.current_version)]), [['welcome', 2]]);
      assert.deepEqual(errors.filter((e) => !/400 \(Bad Request\)/.test(e)), [], 'the page ran clean (the preview\'s 400s are expected)');
    });
  });
});

describe('reports page in a browser', { skip: browserSkipReason() }, () => {
  let reportsBrowser: TestBrowser;
  before(async () => { reportsBrowser = await launchBrowser(); });
  after(async () => { await reportsBrowser?.close(); });

  describeEachStore('reports page', (engine) => {
    let mailroom: TestMailroom;
    let page: Page;

    before(async () => {
      mailroom = await startTestMailroom(engine, { MAILROOM_ROLES: 'http' });
      const created = await createAccount(mailroom.running.store, { email: OWNER.email, password: OWNER.password, dailyLimit: 100 });
      await addDomain(mailroom.running.store, created.account.id, 'shop.example', 'mailroom.test');
      await forceVerifyDomain(mailroom.running.store, await getDomainRow(mailroom.running.store, 'shop.example', null));
      const sender = { secret: created.key.secret };
      for (const tag of ['spring', 'spring', 'autumn']) {
        const response = await fetch(`http://127.0.0.1:${mailroom.port('http')}/api/v1/messages`, {
          method: 'POST', headers: { authorization: `Bearer ${sender.secret}`, 'content-type': 'application/json' },
          body: JSON.stringify({ from: OWNER.email, to: 'a@x.example', subject: 's', text: 't', tags: [tag] }),
        });
        assert.equal(response.status, 202);
      }
      page = await reportsBrowser.newPage();
      await signIn(page, OWNER, `http://127.0.0.1:${mailroom.port('http')}`);
      await page.waitForURL(/\/app\//);
    });
    after(async () => {
      await page?.close();
      await mailroom?.stop();
    });

    it('shows counts by tag and downloads the same as CSV', async () => {
      await page.goto(`http://127.0.0.1:${mailroom.port('http')}/app/reports`);
      const table = page.getByRole('table', { name: 'Report by tag' });
      await table.waitFor();
      const cells = async (key: string) => (await table.locator('tr', { has: page.locator(`td.mono`, { hasText: key }) }).locator('td').allTextContents()).slice(0, 2);
      assert.deepEqual(await cells('spring'), ['spring', '2']);
      assert.deepEqual(await cells('autumn'), ['autumn', '1']);
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('csv-link').click()]);
      const csv = await readFile((await download.path())!, 'utf8');
      assert.match(csv, /^period,tag,sent,/);
      assert.match(csv, /\r\n,spring,2,/);
      await page.getByLabel('Group by').selectOption('domain');
      await page.getByRole('table', { name: 'Report by recipient domain' }).getByText('x.example').waitFor();
    });
  });
});
