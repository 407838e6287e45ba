/**
 * Debian's Chromium driven by playwright-core, for the dashboard's browser
 * tests. Never downloads a browser: without /usr/bin/chromium the suites skip
 * with the reason, except in CI, where a missing browser must fail loudly.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.MAILROOM_TEST_CHROMIUM ?? '/usr/bin/chromium';

export const SCREENSHOT_DIR = join(import.meta.dirname, '..', '..', 'test-artifacts', 'screenshots');

/** false when the browser is there; the reason to skip otherwise (never in CI). */
export function browserSkipReason(): string | false {
  if (existsSync(CHROMIUM) || process.env.CI === 'true') return false;
  return `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set MAILROOM_TEST_CHROMIUM)`;
}

export interface TestBrowser {
  context: BrowserContext;
  newPage(width?: number): Promise<Page>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'mailroom-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 800 },
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  context.setDefaultTimeout(15_000);
  return {
    context,
    async newPage(width = 1280) {
      const page = await context.newPage();
      await page.setViewportSize({ width, height: width < 600 ? 844 : 800 });
      return page;
    },
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** A full-page PNG under test-artifacts/screenshots/, named for the page and the width. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const width = page.viewportSize()?.width ?? 0;
  const path = join(SCREENSHOT_DIR, `${name}-${width}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Collects uncaught errors and console errors, so a test can assert the page ran clean. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // A 401 before signing in is the dashboard asking "who am I?", not a fault.
    if (message.type() === 'error' && !/401 \(Unauthorized\)/.test(message.text())) errors.push(`console: ${message.text()}`);
  });
  return errors;
}

/** A fresh page for a Mailroom's dashboard, watched for errors (see watchErrors). */
export async function openDashboard(browser: TestBrowser, httpPort: number): Promise<{ page: Page; base: string; errors: string[] }> {
  const page = await browser.newPage(1280);
  return { page, base: `http://127.0.0.1:${httpPort}`, errors: watchErrors(page) };
}

/** Fills the login form and presses "Sign in", as a person does; with `base`, opens /login first. */
export async function signIn(page: Page, who: { email: string; password: string }, base?: string): Promise<void> {
  if (base) await page.goto(`${base}/login`);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}
