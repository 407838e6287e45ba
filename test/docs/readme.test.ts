import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { configurationTable } from '../../src/config/docs.ts';

test("the README's configuration table matches the option table in the code", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const table = /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(readme)?.[1];
  assert.equal(table, configurationTable(), 'regenerate it: npx mailroom config-docs');
});

test('the README tells a newcomer how to install, start and test', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  assert.match(readme, /npm install && npm start/);
  assert.match(readme, /npm test/);
});

const repoRoot = new URL('../../', import.meta.url);
const documents = ['README.md', 'CONTRIBUTING.md', 'docs/contract.md', 'docs/flow.md'];

test('the documentation links only to files inside the repository, and each one exists', () => {
  for (const document of documents) {
    const text = readFileSync(new URL(document, repoRoot), 'utf8');
    assert.doesNotMatch(text, /\.\.\/shared|\/work\/|PRODUCT\.md/, `${document} points outside the repository`);
    for (const [, target] of text.matchAll(/\]\(([^)#\s]+)[^)]*\)/g)) {
      if (/^[a-z]+:/i.test(target!)) continue;
      const resolved = new URL(target!, new URL(document, repoRoot));
      assert.ok(resolved.href.startsWith(repoRoot.href), `${document} links outside the repository: ${target}`);
      assert.ok(existsSync(resolved), `${document} links to ${target}, which does not exist`);
    }
  }
});

test("the README's layout paragraph names every top-level folder", () => {
  const readme = readFileSync(new URL('README.md', repoRoot), 'utf8');
  const layout = /## How the code is laid out\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';
  const folders = readdirSync(repoRoot, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !['node_modules', 'data', 'test-artifacts', '.git'].includes(entry.name))
    .map((entry) => entry.name);
  for (const folder of folders) assert.ok(layout.includes(`\`${folder}/\``), `the layout paragraph does not mention ${folder}/`);
  const sources = readdirSync(new URL('src/', repoRoot), { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  for (const folder of sources) assert.ok(layout.includes(`\`${folder}/\``), `the layout paragraph does not mention src/${folder}/`);
});

test('the README quick start sets MAILROOM_HOSTNAME and explains what a first send does', () => {
  const readme = readFileSync(new URL('README.md', repoRoot), 'utf8');
  const quickStart = /## Quick start\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';
  assert.match(quickStart, /MAILROOM_HOSTNAME=/);
  assert.match(quickStart, /suppress/);
  assert.match(readme, /curl .*\/api\/v1\/messages/);
  assert.match(readme, /Mailroom-Signature/);
});
