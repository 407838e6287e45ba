/**
 * `mailroom devices add|list|remove`: machines that cannot log in (scanners,
 * printers) whose mail is taken without AUTH from their address ranges, only
 * for the senders registered and within their own daily limit.
 */
import type { Command } from 'commander';
import { getAccountByEmail } from '../accounts/accounts.ts';
import { listDevices, registerDevice, removeDevice } from '../accounts/devices.ts';
import { UserError } from '../errors.ts';
import { parseLimit, runWithStore, withConfigFlags } from './context.ts';

const list = (raw: string) => raw.split(',').map((item) => item.trim()).filter((item) => item !== '');

export function registerDeviceCommands(program: Command): void {
  const devices = program.command('devices').description('devices that send without logging in (the device lane)');
  withConfigFlags(devices.command('add').description('register a device: its address ranges may send without AUTH, only as its senders'), { example: 'mailroom devices add --account you@example.com --ip 192.0.2.10/32 --from scanner@example.com --daily-limit 200' })
    .requiredOption('--account <email>', 'account email')
    .requiredOption('--ip <ranges>', 'comma-separated client address ranges (CIDR) the device sends from')
    .requiredOption('--from <senders>', 'comma-separated addresses (or whole domains) of the account it may send as')
    .requiredOption('--daily-limit <n>', "its own emails per rolling 24 hours, within the account's")
    .option('--name <name>', 'a name to recognise it by', 'device')
    .option('--json', 'print JSON')
    .action((options) => runWithStore(options, async (store) => {
      const account = await getAccountByEmail(store, options.account);
      const dailyLimit = parseLimit(options.dailyLimit, 'daily-limit');
      if (dailyLimit === undefined) throw new UserError('invalid', 'invalid_daily-limit', '--daily-limit is required', 'daily-limit');
      const device = await registerDevice(store, account.id, { name: options.name, ipRanges: list(options.ip), from: list(options.from), dailyLimit });
      return { id: device.id, name: device.name, ipRanges: device.ipRanges, from: device.from, dailyLimit: device.dailyLimit, createdAt: new Date(device.createdAt).toISOString() };
    }, (d) => `Registered device ${d.id} (${d.name}): ${d.ipRanges.join(', ')} may send without logging in as ${d.from.join(', ')}, ${d.dailyLimit} emails a day.`));

  withConfigFlags(devices.command('list').description("list an account's devices"), { example: 'mailroom devices list --account you@example.com' })
    .requiredOption('--account <email>', 'account email')
    .option('--json', 'print JSON')
    .action((options) => runWithStore(options, async (store) => {
      const account = await getAccountByEmail(store, options.account);
      return (await listDevices(store, account.id)).map((d) => ({
        id: d.id, name: d.name, ipRanges: d.ipRanges, from: d.from, dailyLimit: d.dailyLimit, createdAt: new Date(d.createdAt).toISOString(),
      }));
    }, (rows) => rows.map((d) => `${d.id}\t${d.name}\t${d.ipRanges.join(',')}\tas ${d.from.join(',')}\t${d.dailyLimit}/24h`).join('\n') || 'No devices.'));

  withConfigFlags(devices.command('remove <deviceId>').description('remove a device; its addresses must log in again at once'), { example: 'mailroom devices remove dev_0123456789' })
    .option('--json', 'print JSON')
    .action((deviceId: string, options) => runWithStore(options, async (store) => {
      await removeDevice(store, deviceId, null);
      return { id: deviceId, removed: true };
    }, (r) => `Removed device ${r.id}.`));
}
