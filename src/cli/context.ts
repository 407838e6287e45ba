/**
 * What every CLI command shares: the configuration (same variables and flags
 * as the service), the store, output in words or JSON, and exit codes.
 */
import { Option, type Command } from 'commander';
import { loadConfig, ConfigError } from '../config/load.ts';
import { OPTIONS, flagName, type Config } from '../config/options.ts';
import { openStore, type Store } from '../store/database.ts';
import { UserError, type UserErrorKind } from '../errors.ts';
import { warnIfRunningNodeUsesAnotherStore } from './store-check.ts';

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, failed: 1, invalid: 2, notFound: 3, conflict: 4 } as const;

const EXIT_FOR_KIND: Record<UserErrorKind, number> = { invalid: EXIT.invalid, 'not-found': EXIT.notFound, conflict: EXIT.conflict, forbidden: EXIT.failed };

/**
 * Adds every configuration flag (--smtp-port ⇔ MAILROOM_SMTP_PORT …) to a command. Only
 * `start` lists them in its help; a management command accepts them all (it must open the
 * same store as the service) but its help shows its own options and an example.
 */
export function withConfigFlags(command: Command, help: { example?: string; listSettings?: boolean } = {}): Command {
  for (const spec of Object.values(OPTIONS)) {
    const option = new Option(`--${flagName(spec.env)} <value>`, `${spec.help} [${spec.env}]`);
    command.addOption(help.listSettings ? option : option.hideHelp());
  }
  if (help.example) command.addHelpText('after', `\nExample:\n  $ ${help.example}`);
  if (!help.listSettings) {
    command.addHelpText('after', '\nSettings: the same MAILROOM_* variables as the service (each also a flag, e.g. --database-url);\n`mailroom start --help` lists them.');
  }
  return command;
}

export function configFrom(options: Record<string, unknown>): Config {
  const flags: Record<string, string> = {};
  for (const spec of Object.values(OPTIONS)) {
    const flag = flagName(spec.env);
    const key = flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    if (typeof options[key] === 'string') flags[flag] = options[key] as string;
  }
  return loadConfig(process.env, flags);
}

/** Runs a command body with a store open, printing its result and choosing the exit code. */
export async function runWithStore<T>(
  options: Record<string, unknown>,
  body: (store: Store, config: Config) => Promise<T>,
  print: (result: T) => string,
  exitCode: (result: T) => number = () => EXIT.ok,
): Promise<void> {
  const json = options.json === true;
  let store: Store | null = null;
  try {
    const config = configFrom(options);
    store = await openStore(config.databaseUrl);
    await warnIfRunningNodeUsesAnotherStore(store, config);
    const result = await body(store, config);
    process.stdout.write((json ? JSON.stringify(result, null, 2) : print(result)) + '\n');
    process.exitCode = exitCode(result);
  } catch (error) {
    reportError(error, json);
  } finally {
    await store?.close();
  }
}

export function reportError(error: unknown, json: boolean): void {
  if (error instanceof UserError || error instanceof ConfigError) {
    const code = error instanceof UserError ? error.code : 'invalid_config';
    const field = error instanceof UserError ? error.field : undefined;
    if (json) process.stdout.write(JSON.stringify({ error: { code, message: error.message, field } }) + '\n');
    else process.stderr.write(`mailroom: ${error.message}\n`);
    process.exitCode = error instanceof UserError ? EXIT_FOR_KIND[error.kind] : EXIT.invalid;
    return;
  }
  const message = (error as Error)?.message ?? String(error);
  if (json) process.stdout.write(JSON.stringify({ error: { code: 'internal', message } }) + '\n');
  else process.stderr.write(`mailroom: ${message}\n`);
  process.exitCode = EXIT.failed;
}

export function parseLimit(raw: string | undefined, field: string): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new UserError('invalid', `invalid_${field}`, `--${field} must be a whole number of at least 1`, field);
  return Number(raw);
}
