#!/usr/bin/env node
/** `mailroom` — the service and its management commands. */
import { Command } from 'commander';
import { registerStartCommand } from './start.ts';
import { registerAccountCommands } from './accounts.ts';
import { registerDomainCommands } from './domains.ts';
import { registerMessageCommands } from './messages.ts';
import { registerSuppressionCommands } from './suppressions.ts';
import { registerNodeCommands } from './nodes.ts';
import { registerTemplateCommands } from './templates.ts';
import { registerSandboxCommands } from './sandbox.ts';
import { EXIT } from './context.ts';
import { configurationTable } from '../config/docs.ts';

const program = new Command('mailroom')
  .description('Mailroom: a self-hosted email delivery service')
  .exitOverride((error) => process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.invalid));

registerStartCommand(program);
registerAccountCommands(program);
registerDomainCommands(program);
registerMessageCommands(program);
registerSuppressionCommands(program);
registerNodeCommands(program);
registerTemplateCommands(program);
registerSandboxCommands(program);
program.command('config-docs').description('print the configuration table (Markdown)').action(() => { process.stdout.write(configurationTable() + '\n'); });

await program.parseAsync(process.argv);
