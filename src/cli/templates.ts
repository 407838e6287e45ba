/**
 * `mailroom templates create|update|show|list|delete`: an account's stored
 * templates from the shell. Bodies come inline (--text, --html) or from files
 * (--text-file, --html-file), since a real HTML body is rarely one line.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { getAccountByEmail } from '../accounts/accounts.ts';
import { UserError } from '../errors.ts';
import { createTemplate, deleteTemplate, getTemplate, listTemplates, updateTemplate, type TemplateContent, type TemplateView } from '../templates/templates.ts';
import { runWithStore, withConfigFlags } from './context.ts';

export function registerTemplateCommands(program: Command): void {
  const templates = program.command('templates').description("manage an account's message templates (Liquid)");

  withContentOptions(withConfigFlags(templates.command('create <name>').description('store a new template as version 1')))
    .action((name: string, options) => runWithStore(options, async (store) => {
      const account = await getAccountByEmail(store, options.account);
      return json(await createTemplate(store, account.id, name, await contentFrom(options)));
    }, (t) => `Created template ${t.name} (version ${t.version}).`));

  withContentOptions(withConfigFlags(templates.command('update <name>').description('store a new version; sent messages keep theirs')))
    .action((name: string, options) => runWithStore(options, async (store) => {
      const account = await getAccountByEmail(store, options.account);
      return json(await updateTemplate(store, account.id, name, await contentFrom(options)));
    }, (t) => `Stored template ${t.name} version ${t.version}.`));

  withConfigFlags(templates.command('show <name>').description('print a template: its newest version or --version N'))
    .requiredOption('--account <email>', 'account email')
    .option('--version <n>', 'an older version')
    .option('--json', 'print JSON')
    .action((name: string, options) => runWithStore(options, async (store) => {
      const account = await getAccountByEmail(store, options.account);
      return json(await getTemplate(store, account.id, name, versionFrom(options.version)));
    }, (t) => [
      `${t.name} version ${t.version} of ${t.currentVersion}`, `Subject: ${t.subject}`,
      ...(t.text !== null ? ['--- text', t.text] : []), ...(t.html !== null ? ['--- html', t.html] : []),
    ].join('\n')));

  withConfigFlags(templates.command('list').description("the account's templates"))
    .requiredOption('--account <email>', 'account email')
    .option('--json', 'print JSON')
    .action((options) => runWithStore(options, async (store) => {
      const account = await getAccountByEmail(store, options.account);
      return (await listTemplates(store, account.id)).map((t) => ({ ...t, createdAt: iso(t.createdAt), updatedAt: iso(t.updatedAt) }));
    }, (rows) => rows.map((t) => `${t.name}\tversion ${t.currentVersion}\tupdated ${t.updatedAt}`).join('\n') || 'No templates.'));

  withConfigFlags(templates.command('delete <name>').description('delete a template and its versions'))
    .requiredOption('--account <email>', 'account email')
    .option('--json', 'print JSON')
    .action((name: string, options) => runWithStore(options, async (store) => {
      const account = await getAccountByEmail(store, options.account);
      await deleteTemplate(store, account.id, name);
      return { name, deleted: true };
    }, (r) => `Deleted template ${r.name}.`));
}

function withContentOptions(command: Command): Command {
  return command
    .requiredOption('--account <email>', 'account email')
    .requiredOption('--subject <liquid>', 'the subject, e.g. "Welcome, {{ name }}"')
    .option('--text <liquid>', 'the plain-text body')
    .option('--text-file <path>', 'the plain-text body, from a file')
    .option('--html <liquid>', 'the HTML body (outputs are HTML-escaped)')
    .option('--html-file <path>', 'the HTML body, from a file')
    .option('--json', 'print JSON');
}

async function contentFrom(options: Record<string, string | undefined>): Promise<TemplateContent> {
  return { subject: options.subject!, text: await oneOf(options, 'text'), html: await oneOf(options, 'html') };
}

async function oneOf(options: Record<string, string | undefined>, part: 'text' | 'html'): Promise<string | null> {
  const inline = options[part];
  const file = options[`${part}File`];
  if (inline !== undefined && file !== undefined) throw new UserError('invalid', 'conflicting_options', `give --${part} or --${part}-file, not both`, part);
  if (file === undefined) return inline ?? null;
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new UserError('invalid', 'unreadable_file', `--${part}-file ${file}: ${(error as Error).message}`, `${part}File`);
  }
}

function versionFrom(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new UserError('invalid', 'invalid_version', '--version must be a whole number of at least 1', 'version');
  return Number(raw);
}

const iso = (at: number) => new Date(at).toISOString();

function json(t: TemplateView) {
  return { ...t, createdAt: iso(t.createdAt), updatedAt: iso(t.updatedAt) };
}
