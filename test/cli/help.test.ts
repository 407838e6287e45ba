/**
 * The CLI's help reads well: every command's `--help` shows its own options
 * and an example (the configuration flags are listed once, by `start`), and
 * `--version` prints the package's version.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { program } from '../../src/cli/main.ts';
import { cliEnv, runCli } from '../support/cli.ts';

const packageVersion = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Commands that do something (not groups such as `domains`), with their full names. */
function leafCommands(command: Command, prefix = ''): Array<{ name: string; command: Command }> {
  return command.commands.flatMap((sub) => {
    const name = `${prefix}${sub.name()}`;
    return sub.commands.length > 0 ? leafCommands(sub, `${name} `) : [{ name, command: sub }];
  });
}

/** The help text as `mailroom … --help` prints it, "after" texts included. */
function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (chunk) => { text += chunk; }, writeErr: (chunk) => { text += chunk; } });
  command.exitOverride();
  try {
    command.outputHelp();
  } finally {
    command.configureOutput({});
  }
  return text;
}

test('every command has help of its own: its options and an example, not the service flags', () => {
  const commands = leafCommands(program);
  assert.ok(commands.length >= 10, `found only ${commands.map((c) => c.name).join(', ')}`);
  for (const { name, command } of commands) {
    const help = helpOf(command);
    assert.match(help, new RegExp(`Example:\\n  \\$ mailroom ${name.split(' ')[0]}|Example:\\n  \\$ MAILROOM_`), `mailroom ${name} --help has no example:\n${help}`);
    if (name === 'start') {
      assert.match(help, /--smtp-port <value>/, 'start lists the settings');
    } else {
      assert.doesNotMatch(help, /--smtp-port|--retry-schedule|--acme-email/, `mailroom ${name} --help lists the service's flags:\n${help}`);
      assert.ok(help.split('\n').length < 30, `mailroom ${name} --help is ${help.split('\n').length} lines`);
    }
  }
});

test('the help of domains add shows --account and the example, from the real program', async () => {
  const result = await runCli(['domains', 'add', '--help'], cliEnv(null));
  assert.equal(result.code, 0, result.output);
  assert.match(result.stdout, /--account <email>/);
  assert.match(result.stdout, /Example:\n {2}\$ mailroom domains add example\.com --account you@example\.com/);
  assert.doesNotMatch(result.stdout, /--delivery-concurrency/);
});

test('mailroom --version prints the version of the package', async () => {
  for (const flag of ['--version', '-V']) {
    const result = await runCli([flag], cliEnv(null));
    assert.equal(result.code, 0, result.output);
    assert.equal(result.stdout.trim(), packageVersion);
  }
});

test('a management command still accepts every setting as a flag, though its help does not list it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-help-'));
  try {
    const result = await runCli(['domains', 'list', '--database-url', `sqlite:${join(dir, 'flag.db')}`, '--http-port', 'off', '--json'], cliEnv(null));
    assert.equal(result.code, 0, result.output);
    assert.deepEqual(JSON.parse(result.stdout), []);
    assert.ok(existsSync(join(dir, 'flag.db')), 'the store named by the flag was used');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
