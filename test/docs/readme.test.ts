import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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
