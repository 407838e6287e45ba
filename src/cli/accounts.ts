import type { Command } from 'commander';
import { createAccount, getAccountByEmail, listAccounts } from '../accounts/accounts.ts';
import { createSecretKey, listSecretKeys, revokeSecretKey } from '../accounts/keys.ts';
import { sandboxKey } from '../accounts/sandbox.ts';
import { parseLimit, runWithStore, withConfigFlags } from './context.ts';

const when = (at: number | null) => (at === null ? '-' : new Date(at).toISOString());

export function registerAccountCommands(program: Command): void {
  const accounts = program.command('accounts').description('manage accounts');
  withConfigFlags(accounts.command('create <email>').description('create an account and its first secret key'))
    .option('--daily-limit <n>', 'emails per rolling 24 hours (default MAILROOM_DEFAULT_DAILY_LIMIT)')
    .option('--password <password>', 'dashboard password (default: generated and printed)')
    .option('--admin', 'may manage every account in the dashboard')
    .option('--sandbox', 'start in sandbox mode (default MAILROOM_NEW_ACCOUNTS_SANDBOXED)')
    .option('--json', 'print JSON')
    .action((email: string, options) => runWithStore(options, async (store, config) => {
      const created = await createAccount(store, {
        email, password: options.password, isAdmin: options.admin === true,
        dailyLimit: parseLimit(options.dailyLimit, 'daily-limit') ?? config.defaultDailyLimit,
        sandbox: options.sandbox === true || config.newAccountsSandboxed,
      });
      return {
        account: { id: created.account.id, email: created.account.email, dailyLimit: created.account.dailyLimit },
        key: { id: created.key.id, name: created.key.name, secret: created.key.secret },
        ...(options.password ? {} : { password: created.password }),
      };
    }, (r) => [
      `Created account ${r.account.email} (daily limit ${r.account.dailyLimit}).`,
      `SMTP username: ${r.account.email}`,
      `Secret key (SMTP password and API token; shown only now): ${r.key.secret}`,
      ...('password' in r ? [`Dashboard password: ${r.password}`] : []),
    ].join('\n')));

  withConfigFlags(accounts.command('list').description('list accounts'))
    .option('--json', 'print JSON')
    .action((options) => runWithStore(options, (store) => listAccounts(store),
      (rows) => rows.map((a) => `${a.email}\tdaily limit ${a.dailyLimit}${a.isAdmin ? '\tadmin' : ''}`).join('\n') || 'No accounts.'));

  const keys = program.command('keys').description('manage secret keys');
  withConfigFlags(keys.command('create').description('create a secret key (shown once)'))
    .requiredOption('--account <email>', 'account email')
    .option('--name <name>', 'a name to recognise the key by', 'key')
    .option('--sandbox', 'mail sent with this key is recorded and signed but delivered nowhere')
    .option('--json', 'print JSON')
    .action((options) => runWithStore(options, async (store) => {
      const account = await getAccountByEmail(store, options.account);
      const key = await store.db.transaction().execute(async (tx) => {
        const created = await createSecretKey(tx, account.id, options.name);
        if (options.sandbox === true) await sandboxKey(tx, created.id);
        return created;
      });
      return { id: key.id, name: key.name, secret: key.secret, createdAt: new Date(key.createdAt).toISOString() };
    }, (k) => `Created key ${k.id} (${k.name}). Secret, shown only now: ${k.secret}`));

  withConfigFlags(keys.command('list').description("list an account's keys"))
    .requiredOption('--account <email>', 'account email')
    .option('--json', 'print JSON')
    .action((options) => runWithStore(options, async (store) => {
      const account = await getAccountByEmail(store, options.account);
      return (await listSecretKeys(store, account.id)).map((k) => ({
        id: k.id, name: k.name, hint: k.hint, createdAt: when(k.createdAt), lastUsedAt: k.lastUsedAt === null ? null : when(k.lastUsedAt),
        revokedAt: k.revokedAt === null ? null : when(k.revokedAt),
      }));
    }, (rows) => rows.map((k) => `${k.id}\t${k.name}\t${k.hint}\tcreated ${k.createdAt}\tlast used ${k.lastUsedAt ?? 'never'}${k.revokedAt ? `\tREVOKED ${k.revokedAt}` : ''}`).join('\n') || 'No keys.'));

  withConfigFlags(keys.command('revoke <keyId>').description('revoke a key; it stops working at once'))
    .option('--json', 'print JSON')
    .action((keyId: string, options) => runWithStore(options, async (store) => {
      await revokeSecretKey(store, keyId, null);
      return { id: keyId, revoked: true };
    }, (r) => `Revoked key ${r.id}.`));
}
