/**
 * `mailroom accounts sandbox EMAIL --on|--lift`: an operator puts an account
 * in sandbox mode (mail recorded and signed, delivered nowhere) or lifts it.
 * Registered under `accounts`, next to the commands that create them.
 */
import type { Command } from 'commander';
import { getAccountByEmail } from '../accounts/accounts.ts';
import { accountSandboxed, setAccountSandbox } from '../accounts/sandbox.ts';
import { UserError } from '../errors.ts';
import { runWithStore, withConfigFlags } from './context.ts';

export function registerSandboxCommands(program: Command): void {
  const accounts = program.commands.find((command) => command.name() === 'accounts');
  if (!accounts) throw new Error('register the accounts commands first');
  withConfigFlags(accounts.command('sandbox <email>').description('put an account in sandbox mode (--on) or lift it (--lift); without either, show it'), { example: 'mailroom accounts sandbox you@example.com --lift' })
    .option('--on', 'mail is recorded and signed but delivered nowhere')
    .option('--lift', 'mail is delivered again')
    .option('--json', 'print JSON')
    .action((email: string, options) => runWithStore(options, async (store) => {
      if (options.on && options.lift) throw new UserError('invalid', 'conflicting_options', 'give --on or --lift, not both', 'on');
      const account = await getAccountByEmail(store, email);
      if (options.on || options.lift) await setAccountSandbox(store, account.id, options.on === true);
      return { email: account.email, sandbox: await accountSandboxed(store, account.id) };
    }, (r) => `${r.email}: ${r.sandbox ? 'in sandbox mode (mail is recorded, delivered nowhere)' : 'not in sandbox mode'}`));
}
