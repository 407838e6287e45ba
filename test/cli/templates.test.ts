/**
 * `mailroom templates …` as child processes on a real store: create from a
 * file, new versions, show an old one, list, delete — and a syntax error
 * refused with exit code 2 naming the part, line and column.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeEachStore, createTestStore, type TestStore } from '../support/stores.ts';
import { cliEnv, runCli, runCliJson } from '../support/cli.ts';
import { EXIT } from '../../src/cli/context.ts';
import { createAccount } from '../../src/accounts/accounts.ts';

interface TemplateJson { name: string; version: number; currentVersion: number; subject: string; text: string | null; html: string | null }
interface ErrorJson { error: { code: string; message: string; field?: string } }

describeEachStore('mailroom templates (CLI)', (engine) => {
  let db: TestStore;
  let env: NodeJS.ProcessEnv;
  let dir: string;
  const account = 'owner@shop.example';

  before(async () => {
    db = await createTestStore(engine);
    await createAccount(db.store, { email: account, dailyLimit: 100 });
    env = cliEnv(db);
    dir = mkdtempSync(join(tmpdir(), 'mailroom-templates-'));
  });
  after(async () => {
    await db?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates from a file, stores new versions, shows an old one, lists and deletes', async () => {
    const htmlFile = join(dir, 'welcome.html');
    writeFileSync(htmlFile, '<h1>Hi {{ name }}</h1>\n');
    const created = await runCliJson<TemplateJson>(['templates', 'create', 'welcome', '--account', account, '--subject', 'Hi {{ name }}', '--html-file', htmlFile, '--json'], env);
    assert.equal(created.code, EXIT.ok, created.output);
    assert.equal(created.json.version, 1);
    assert.equal(created.json.html, '<h1>Hi {{ name }}</h1>\n');

    const updated = await runCliJson<TemplateJson>(['templates', 'update', 'welcome', '--account', account, '--subject', 'Hello {{ name }}', '--text', 'Hello', '--json'], env);
    assert.equal(updated.code, EXIT.ok, updated.output);
    assert.equal(updated.json.version, 2);

    const old = await runCliJson<TemplateJson>(['templates', 'show', 'welcome', '--account', account, '--template-version', '1', '--json'], env);
    assert.equal(old.json.subject, 'Hi {{ name }}');
    assert.equal(old.json.currentVersion, 2);

    const listed = await runCli(['templates', 'list', '--account', account], env);
    assert.match(listed.stdout, /^welcome\tversion 2\t/);

    assert.equal((await runCli(['templates', 'delete', 'welcome', '--account', account], env)).code, EXIT.ok);
    const gone = await runCliJson<ErrorJson>(['templates', 'show', 'welcome', '--account', account, '--json'], env);
    assert.equal(gone.code, EXIT.notFound);
    assert.equal(gone.json.error.code, 'unknown_template');
  });

  it('refuses a syntax error (exit 2) naming the part, line and column, and stores nothing', async () => {
    const refused = await runCliJson<ErrorJson>(['templates', 'create', 'bad', '--account', account, '--subject', 's', '--text', 'one\n{{ name ', '--json'], env);
    assert.equal(refused.code, EXIT.invalid, refused.output);
    assert.equal(refused.json.error.code, 'template_syntax');
    assert.equal(refused.json.error.field, 'text');
    assert.match(refused.json.error.message, /^text at line 2, column 1: /);
    assert.equal((await runCli(['templates', 'show', 'bad', '--account', account], env)).code, EXIT.notFound);
  });
});
