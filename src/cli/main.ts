#!/usr/bin/env node
/** `mailroom` — the service and its management commands. */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerStartCommand } from './start.ts';
import { registerAccountCommands } from './accounts.ts';
import { registerDeviceCommands } from './devices.ts';
import { registerDomainCommands } from './domains.ts';
import { registerMessageCommands } from './messages.ts';
import { registerSuppressionCommands } from './suppressions.ts';
import { registerNodeCommands } from './nodes.ts';
import { registerDestinationCommands } from './destinations.ts';
import { registerBackupCommands } from './backup.ts';
import { registerTemplateCommands } from './templates.ts';
import { registerSandboxCommands } from './sandbox.ts';
import { EXIT } from './context.ts';
import { configurationTable } from '../config/docs.ts';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export const program = new Command('mailroom')
  .description('Mailroom: a self-hosted email delivery service')
  .version(version, '-V, --version', 'print the version')
  .addHelpText('after', '\nEach command has its own help, e.g. `mailroom domains add --help`.\nExample:\n  $ mailroom accounts create you@example.com && mailroom domains add example.com --account you@example.com')
  .exitOverride((error) => process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.invalid));

registerStartCommand(program);
registerAccountCommands(program);
registerDeviceCommands(program);
registerDomainCommands(program);
registerMessageCommands(program);
registerSuppressionCommands(program);
registerNodeCommands(program);
registerDestinationCommands(program);
registerBackupCommands(program);
registerTemplateCommands(program);
registerSandboxCommands(program);
program.command('config-docs').description('print the configuration table (Markdown)').addHelpText('after', '\nExample:\n  $ mailroom config-docs > settings.md').action(() => { process.stdout.write(configurationTable() + '\n'); });

// Run when started as a program (npm scripts, tests, bin/mailroom.js); imported, it only
// describes the commands, which is how the help tests read every one of them.
if (import.meta.main) await program.parseAsync(process.argv);
