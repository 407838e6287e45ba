/**
 * The template editor in a real browser: the live preview renders on the
 * server as the user types (HTML escaped, in a script-less sandboxed frame),
 * shows a syntax error with its line and column, and saving creates the
 * template, then a new version.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { createAccount } from '../../src/accounts/accounts.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { describeEachStore } from '../support/stores.ts';
import { browserSkipReason, launchBrowser, screenshot, watchErrors, type TestBrowser } from './browser.ts';

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
      await page.goto(`http://127.0.0.1:${mailroom.port('http')}/login`);
      await page.getByLabel('Email').fill(OWNER.email);
      await page.getByLabel('Password').fill(OWNER.password);
      await page.getByRole('button', { name: /sign in/i }).click();
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
