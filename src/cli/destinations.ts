/**
 * `mailroom destinations list|pin|unpin`: the sites mail goes to, the limits adaptive shaping
 * gives each (and why), and an operator's override.
 */
import type { Command } from 'commander';
import { UserError } from '../errors.ts';
import { deliveryNodeCount, pinSite, readSites } from '../queue/shaping-store.ts';
import { destinationView, type DestinationView } from '../delivery/destination-view.ts';
import { parseLimit, runWithStore, withConfigFlags } from './context.ts';

export function registerDestinationCommands(program: Command): void {
  const destinations = program.command('destinations').description('sites mail goes to, and their adaptive limits');

  withConfigFlags(destinations.command('list').description('every site: its limits, the reply behind the last change, its statistics'), { example: 'mailroom destinations list --json' })
    .option('--json', 'print JSON')
    .action((options) => runWithStore(options, async (store, config) => {
      const now = Date.now();
      const facts = { now, nodes: await deliveryNodeCount(store.db, now), defaultConcurrency: config.destinationConcurrency };
      return (await readSites(store.db)).map((site) => destinationView(site, facts));
    }, (views) => views.map(describe).join('\n') || 'No destination has been seen yet.'));

  withConfigFlags(destinations.command('pin <site>').description("override a site's limits for the whole cluster (what shaping learns is kept beside)"), { example: 'mailroom destinations pin google --concurrency 5 --rate 10' })
    .option('--concurrency <n>', 'connections the cluster may hold to the site')
    .option('--rate <r>', 'messages per second the cluster may send to the site')
    .option('--json', 'print JSON')
    .action((site: string, options) => runWithStore(options, async (store, config) => {
      const concurrency = parseLimit(options.concurrency, 'concurrency');
      const rate = parseRate(options.rate);
      if (concurrency === undefined && rate === undefined) throw new UserError('invalid', 'invalid_pin', 'give --concurrency, --rate or both', 'concurrency');
      const [current] = await readSites(store.db, site);
      const now = Date.now();
      const pinned = await pinSite(store.db, store.engine, site, {
        concurrency: concurrency ?? current?.pinnedConcurrency ?? null, rate: rate ?? current?.pinnedRate ?? null,
      }, now);
      return destinationView(pinned, { now, nodes: await deliveryNodeCount(store.db, now), defaultConcurrency: config.destinationConcurrency });
    }, (view) => `Pinned ${view.site}: ${limitsOf(view)}.`));

  withConfigFlags(destinations.command('unpin <site>').description('lift the pins of a site: adaptive shaping decides again'), { example: 'mailroom destinations unpin google' })
    .option('--json', 'print JSON')
    .action((site: string, options) => runWithStore(options, async (store) => {
      const [current] = await readSites(store.db, site);
      if (!current) throw new UserError('not-found', 'unknown_destination', `no site named ${site} has been seen`, 'site');
      await pinSite(store.db, store.engine, site, { concurrency: null, rate: null }, Date.now());
      return { site, unpinned: true };
    }, (r) => `Lifted the pins of ${r.site}.`));
}

function parseRate(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const rate = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !(rate > 0)) throw new UserError('invalid', 'invalid_rate', '--rate must be a number of messages per second above 0', 'rate');
  return rate;
}

function limitsOf(view: DestinationView): string {
  return `${view.concurrency} connections, ${view.rate === null ? 'no rate limit' : `${view.rate} msg/s`}`;
}

function describe(view: DestinationView): string {
  const origin = view.pinned.concurrency !== null || view.pinned.rate !== null ? ' (pinned)' : view.learnt.rate !== null ? ' (learnt)' : '';
  const suspended = view.suspendedUntil ? `\tSUSPENDED until ${view.suspendedUntil}` : '';
  const why = view.lastChange ? `\t${view.lastChange.kind} at ${view.lastChange.at}${view.lastChange.reply ? `: ${view.lastChange.reply}` : ''}` : '';
  const s = view.stats;
  return `${view.site}\t${limitsOf(view)}${origin}${suspended}\t${s.delivered} delivered, ${s.deferred} deferred, ${s.bounced} bounced, ${s.throttled} throttled, ${s.heldBack} held back\t${view.domains.join(', ')}${why}`;
}
