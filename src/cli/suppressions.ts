/**
 * `mailroom suppressions list|remove`: the addresses an account no longer
 * sends to (hard bounces, complaints), and taking one off the list once the
 * recipient's problem is fixed.
 */
import type { Command } from 'commander';
import { getAccountByEmail } from '../accounts/accounts.ts';
import { listSuppressions, normalizeAddress, removeSuppression } from '../suppressions/suppressions.ts';
import { UserError } from '../errors.ts';
import { runWithStore, withConfigFlags } from './context.ts';

const MAX_PAGE = 1000;

export function registerSuppressionCommands(program: Command): void {
  const suppressions = program.command('suppressions').description("manage an account's suppression list");

  withConfigFlags(suppressions.command('list').description('addresses the account no longer sends to, and why'), { example: 'mailroom suppressions list --account you@example.com' })
    .requiredOption('--account <email>', 'account email')
    .option('--limit <n>', `addresses per page (1-${MAX_PAGE})`, String(MAX_PAGE))
    .option('--cursor <address>', 'the next page: the `next` of the previous one')
    .option('--json', 'print JSON')
    .action((options) => runWithStore(options, async (store) => {
      const account = await getAccountByEmail(store, options.account);
      const page = await listSuppressions(store, account.id, { limit: pageSize(options.limit), after: options.cursor });
      return {
        items: page.items.map((s) => ({ address: s.address, reason: s.reason, createdAt: new Date(s.createdAt).toISOString() })),
        ...(page.next ? { next: page.next } : {}),
      };
    }, (page) => [
      ...page.items.map((s) => `${s.address}\tsince ${s.createdAt}\t${s.reason}`),
      ...(page.next ? [`More: --cursor ${page.next}`] : []),
    ].join('\n') || 'No suppressed addresses.'));

  withConfigFlags(suppressions.command('remove <address>').description('send to the address again'), { example: 'mailroom suppressions remove friend@example.org --account you@example.com' })
    .requiredOption('--account <email>', 'account email')
    .option('--json', 'print JSON')
    .action((address: string, options) => runWithStore(options, async (store) => {
      const account = await getAccountByEmail(store, options.account);
      await removeSuppression(store, account.id, address);
      return { address: normalizeAddress(address), removed: true };
    }, (r) => `Removed ${r.address} from the suppression list of ${options.account}.`));
}

function pageSize(raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_PAGE) {
    throw new UserError('invalid', 'invalid_limit', `--limit must be a whole number from 1 to ${MAX_PAGE}`, 'limit');
  }
  return Number(raw);
}
