import type { Command } from 'commander';
import { listNodes } from '../nodes/registry.ts';
import { runWithStore, withConfigFlags } from './context.ts';

export function registerNodeCommands(program: Command): void {
  const nodes = program.command('nodes').description('the nodes sharing this store');
  withConfigFlags(nodes.command('list').description('live nodes and the deliveries and webhooks each holds'), { example: 'mailroom nodes list --all' })
    .option('--all', 'include nodes that stopped heart-beating')
    .option('--json', 'print JSON')
    .action((options) => runWithStore(options, async (store) => {
      const all = await listNodes(store);
      return (options.all ? all : all.filter((n) => n.alive)).map((n) => ({
        ...n, startedAt: new Date(n.startedAt).toISOString(), heartbeatAt: new Date(n.heartbeatAt).toISOString(),
      }));
    }, (rows) => rows.map((n) => `${n.id}\t${n.alive ? 'alive' : 'STALE'}\t${n.roles.join(',')}\tpid ${n.pid} on ${n.hostname}\tholds ${n.leasedDeliveries} deliveries, ${n.leasedWebhooks} webhooks\tlast beat ${n.heartbeatAt}`).join('\n') || 'No live nodes.'));
}
