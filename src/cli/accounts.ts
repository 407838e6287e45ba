import type { Command } from 'commander';
import { createAccount, getAccountByEmail, listAccounts, setPassword } from '../accounts/accounts.ts';
import { createSecretKey, listSecretKeys, revokeSecretKey } from '../accounts/keys.ts';
import { sandboxKey } from '../accounts/sandbox.ts';
import { parseLimit, runWithStore, withConfigFlags } from './context.ts';
import type { KeyScope } from '../policy/key-scope.ts';

const when = (at: number | null) => (at === null ? '-' : new Date(at).toISOString());

const scopeWords = (scope: KeyScope) => ({
  from: scope.from === null ? null : [...scope.from], dailyLimit: scope.dailyLimit, channel: scope.channel,
  ipRanges: scope.ipRanges === null ? null : [...scope.ipRanges], expiresAt: scope.expiresAt === null ? null : when(scope.expiresAt),
});

function describeScope(scope: ReturnType<typeof scopeWords>): string {
  const parts = [
    scope.from ? `from ${scope.from.join(',')}` : 'any sender', `channel ${scope.channel}`,
    ...(scope.dailyLimit !== null ? [`limit ${scope.dailyLimit}/24h`] : []), ...(scope.ipRanges ? [`from IPs ${scope.ipRanges.join(',')}`] : []),
    ...(scope.expiresAt ? [`expires ${scope.expiresAt}`] : []),
  ];
  return parts.join('; ');
}

export function registerAccountCommands(program: Command): void {
  const accounts = program.command('accounts').description('manage accounts');
  withConfigFlags(accounts.command('create <email>').description('create an account and its first secret key'), { example: 'mailroom accounts create you@example.com --daily-limit 500' })
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

  withConfigFlags(accounts.command('set-password <email>').description("reset an account's dashboard password (ends its dashboard sessions)"), { example: 'mailroom accounts set-password you@example.com' })
    .option('--password <password>', 'the new password, at least 8 characters (default: generated and printed)')
    .option('--json', 'print JSON')
    .action((email: string, options) => runWithStore(options, async (store) => {
      const { account, password } = await setPassword(store, email, options.password);
      return { account: { id: account.id, email: account.email }, ...(options.password ? {} : { password }) };
    }, (r) => [
      `Set a new dashboard password for ${r.account.email}; its dashboard sessions have ended.`,
      ...('password' in r ? [`Dashboard password (shown only now): ${r.password}`] : []),
    ].join('\n')));

  withConfigFlags(accounts.command('list').description('list accounts'), { example: 'mailroom accounts list --json' })
    .option('--json', 'print JSON')
    .action((options) => runWithStore(options, (store) => listAccounts(store),
      (rows) => rows.map((a) => `${a.email}\tdaily limit ${a.dailyLimit}${a.isAdmin ? '\tadmin' : ''}`).join('\n') || 'No accounts.'));

  const keys = program.command('keys').description('manage secret keys');
  withConfigFlags(keys.command('create').description('create a secret key (shown once), optionally limited in scope'), { example: 'mailroom keys create --account you@example.com --name printer --from scanner@example.com --channel smtp' })
    .requiredOption('--account <email>', 'account email')
    .option('--name <name>', 'a name to recognise the key by', 'key')
    .option('--from <senders>', 'comma-separated addresses and whole domains of the account it may send as (default: any)')
    .option('--daily-limit <n>', "its own emails per rolling 24 hours, within the account's")
    .option('--channel <channel>', 'full (SMTP and the whole API), smtp (SMTP only) or api (sending over the API only)')
    .option('--ip <ranges>', 'comma-separated client address ranges (CIDR) it may be used from (default: any)')
    .option('--expires <date>', 'the date (2027-01-01, UTC) or date-time it stops working')
    .option('--sandbox', 'mail sent with this key is recorded and signed but delivered nowhere')
    .option('--json', 'print JSON')
    .action((options) => runWithStore(options, async (store) => {
      const account = await getAccountByEmail(store, options.account);
      const list = (raw: string | undefined) => (raw === undefined ? undefined : raw.split(',').map((item) => item.trim()).filter((item) => item !== ''));
      const scopeInput = {
        from: list(options.from), dailyLimit: parseLimit(options.dailyLimit, 'daily-limit'), channel: options.channel as string | undefined,
        ipRanges: list(options.ip), expiresAt: options.expires as string | undefined,
      };
      const key = await createSecretKey(store.db, account.id, options.name, scopeInput);
      if (options.sandbox === true) await sandboxKey(store.db, key.id);
      const scoped = Object.values(scopeInput).some((value) => value !== undefined);
      // The contract's shape for a plain key; a scoped one also says what it may do.
      return { id: key.id, name: key.name, secret: key.secret, createdAt: new Date(key.createdAt).toISOString(), ...(scoped ? { scope: scopeWords(key.scope) } : {}) };
    }, (k) => `Created key ${k.id} (${k.name}). Secret, shown only now: ${k.secret}${k.scope ? `\nScope: ${describeScope(k.scope)}` : ''}`));

  withConfigFlags(keys.command('list').description("list an account's keys"), { example: 'mailroom keys list --account you@example.com' })
    .requiredOption('--account <email>', 'account email')
    .option('--json', 'print JSON')
    .action((options) => runWithStore(options, async (store) => {
      const account = await getAccountByEmail(store, options.account);
      return (await listSecretKeys(store, account.id)).map((k) => ({
        id: k.id, name: k.name, hint: k.hint, createdAt: when(k.createdAt), lastUsedAt: k.lastUsedAt === null ? null : when(k.lastUsedAt),
        lastUsedIp: k.lastUsedIp, revokedAt: k.revokedAt === null ? null : when(k.revokedAt), sentLast24h: k.sentLast24h, scope: scopeWords(k.scope),
      }));
    }, (rows) => rows.map((k) => `${k.id}\t${k.name}\t${k.hint}\tcreated ${k.createdAt}\tlast used ${k.lastUsedAt ? `${k.lastUsedAt} from ${k.lastUsedIp ?? '?'}` : 'never'}\tsent ${k.sentLast24h} in 24h\t${describeScope(k.scope)}${k.revokedAt ? `\tREVOKED ${k.revokedAt}` : ''}`).join('\n') || 'No keys.'));

  withConfigFlags(keys.command('revoke <keyId>').description('revoke a key; it stops working at once'), { example: 'mailroom keys revoke 0mwucufn81faro1a20aj' })
    .option('--json', 'print JSON')
    .action((keyId: string, options) => runWithStore(options, async (store) => {
      await revokeSecretKey(store, keyId, null);
      return { id: keyId, revoked: true };
    }, (r) => `Revoked key ${r.id}.`));
}
