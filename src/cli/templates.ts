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

  withContentOptions(withConfigFlags(templates.command('create <name>').description('store a new template as version 1'), { example: 'mailroom templates create welcome --account you@example.com --subject "Hi {{ name }}" --text-file welcome.txt' }))
    .action((name: string, options) => runWithStore(options, async (store) => {
      const account = await getAccountByEmail(store, options.account);
      return json(await createTemplate(store, account.id, name, await contentFrom(options)));
    }, (t) => `Created template ${t.name} (version ${t.version}).`));

  withContentOptions(withConfigFlags(templates.command('update <name>').description('store a new version; sent messages keep theirs'), { example: 'mailroom templates update welcome --account you@example.com --html-file welcome.html' }))
    .action((name: string, options) => runWithStore(options, async (store) => {
      const account = await getAccountByEmail(store, options.account);
      return json(await updateTemplate(store, account.id, name, await contentFrom(options)));
    }, (t) => `Stored template ${t.name} version ${t.version}.`));

  withConfigFlags(templates.command('show <name>').description('print a template: its newest version or --template-version N'), { example: 'mailroom templates show welcome --account you@example.com --template-version 1' })
    .requiredOption('--account <email>', 'account email')
    .option('--template-version <n>', 'an older version (`--version` is the program\'s own)')
    .option('--json', 'print JSON')
    .action((name: string, options) => runWithStore(options, async (store) => {
      const account = await getAccountByEmail(store, options.account);
      return json(await getTemplate(store, account.id, name, versionFrom(options.templateVersion)));
    }, (t) => [
      `${t.name} version ${t.version} of ${t.currentVersion}`, `Subject: ${t.subject}`,
      ...(t.text !== null ? ['--- text', t.text] : []), ...(t.html !== null ? ['--- html', t.html] : []),
    ].join('\n')));

  withConfigFlags(templates.command('list').description("the account's templates"), { example: 'mailroom templates list --account you@example.com' })
    .requiredOption('--account <email>', 'account email')
    .option('--json', 'print JSON')
    .action((options) => runWithStore(options, async (store) => {
      const account = await getAccountByEmail(store, options.account);
      return (await listTemplates(store, account.id)).map((t) => ({ ...t, createdAt: iso(t.createdAt), updatedAt: iso(t.updatedAt) }));
    }, (rows) => rows.map((t) => `${t.name}\tversion ${t.currentVersion}\tupdated ${t.updatedAt}`).join('\n') || 'No templates.'));

  withConfigFlags(templates.command('delete <name>').description('delete a template and its versions'), { example: 'mailroom templates delete welcome --account you@example.com' })
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
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new UserError('invalid', 'invalid_version', '--template-version must be a whole number of at least 1', 'template-version');
  return Number(raw);
}

const iso = (at: number) => new Date(at).toISOString();

function json(t: TemplateView) {
  return { ...t, createdAt: iso(t.createdAt), updatedAt: iso(t.updatedAt) };
}
