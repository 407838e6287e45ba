import type { Command } from 'commander';
import { getAccountByEmail } from '../accounts/accounts.ts';
import { createResolver } from '../dns/resolver.ts';
import { addDomain, forceVerifyDomain, getDomainRow, listDomains, verifyDomain } from '../domains/domains.ts';
import { EXIT, runWithStore, withConfigFlags } from './context.ts';
import { showDnsProgress } from './dns-progress.ts';

export function registerDomainCommands(program: Command): void {
  const domains = program.command('domains').description('manage sending domains');

  withConfigFlags(domains.command('add <domain>').description('add a sending domain; prints the DNS records to publish'), { example: 'mailroom domains add example.com --account you@example.com' })
    .requiredOption('--account <email>', 'account the domain belongs to')
    .option('--json', 'print JSON')
    .action((name: string, options) => runWithStore(options, async (store, config) => {
      const account = await getAccountByEmail(store, options.account);
      const { domain, records } = await addDomain(store, account.id, name, config.hostname);
      return { domain: { name: domain.name, verified: domain.verified }, records };
    }, (r) => [
      `Added ${r.domain.name}. Publish these DNS records, then run: mailroom domains verify ${r.domain.name}`,
      ...r.records.map((rec) => `  ${rec.purpose.padEnd(12)} ${rec.type.padEnd(5)} ${rec.name}  ${rec.priority !== undefined ? rec.priority + ' ' : ''}${rec.value}` +
        (rec.warning ? `\n               NOT USABLE YET — ${rec.warning}` : '')),
    ].join('\n')));

  withConfigFlags(domains.command('verify <domain>').description("look up the domain's DNS records; exit 0 only when verified"), { example: 'mailroom domains verify example.com' })
    .option('--force', 'mark the domain verified without DNS (private networks); logged')
    .option('--json', 'print JSON')
    .action((name: string, options) => runWithStore(options, async (store, config) => {
      const row = await getDomainRow(store, name, null);
      if (options.force) {
        const domain = await forceVerifyDomain(store, row);
        process.stderr.write(`mailroom: ${domain.name} marked verified by hand (--force) at ${new Date().toISOString()}\n`);
        return { domain: domain.name, verified: true, forced: true, records: [] };
      }
      const resolver = createResolver(config.dnsServers);
      // Progress goes to stderr for a person watching; with --json a script reads stdout only.
      const progress = options.json ? null : showDnsProgress(resolver, config.dnsServers?.join(', ') ?? 'the system resolver', (line) => process.stderr.write(line + '\n'));
      let result;
      try {
        result = await verifyDomain(store, row, progress?.resolver ?? resolver, config.hostname);
      } finally {
        progress?.stop();
      }
      return {
        domain: result.domain.name, verified: result.verified,
        records: result.records.map((c) => ({ purpose: c.purpose, type: c.type, name: c.name, expected: c.expected, found: c.found, ok: c.ok, ...(c.error ? { error: c.error } : {}) })),
      };
    }, (r) => [
      `${r.domain}: ${r.verified ? 'verified' : 'NOT verified'}${'forced' in r ? ' (forced)' : ''}`,
      ...r.records.map((c) => `  ${c.ok ? 'ok  ' : c.purpose === 'server-host' ? 'warn' : 'FAIL'} ${c.purpose.padEnd(12)} ${c.type.padEnd(5)} ${c.name}${c.error ? `\n       ${c.error}` : ''}`),
    ].join('\n'), (r) => (r.verified ? EXIT.ok : EXIT.failed)));

  withConfigFlags(domains.command('list').description('list sending domains'), { example: 'mailroom domains list --account you@example.com' })
    .option('--account <email>', 'only this account')
    .option('--json', 'print JSON')
    .action((options) => runWithStore(options, async (store) => {
      const account = options.account ? await getAccountByEmail(store, options.account) : null;
      return (await listDomains(store, account?.id ?? null)).map((d) => ({
        name: d.name, verified: d.verified, verifiedBy: d.verifiedBy, dkimSelector: d.dkimSelector, returnPathDomain: d.returnPathDomain,
        createdAt: new Date(d.createdAt).toISOString(),
      }));
    }, (rows) => rows.map((d) => `${d.name}\t${d.verified ? `verified${d.verifiedBy === 'force' ? ' (forced)' : ''}` : 'not verified'}`).join('\n') || 'No domains.'));
}
