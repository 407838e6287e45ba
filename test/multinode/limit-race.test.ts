/**
 * The daily sending limit holds across nodes: two SMTP nodes on one
 * PostgreSQL, one account with a limit of N, and 3N single-recipient
 * messages pushed through both at once over many pipelining connections.
 * Each session's early check (at RCPT) reads usage before the others have
 * committed, so many pass it; the commit, which locks the account row and
 * counts again, must refuse every message beyond N: exactly N accepted.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { forgetNode, postgresSkipReason, startNode, type MailroomNode } from './cluster.ts';
import { submitAll } from './submitter.ts';
import { startMultiNodeWorld, type MultiNodeWorld } from './world.ts';

const LIMIT = 50;
const CONNECTIONS_PER_NODE = 12;

describe('daily limit across nodes on PostgreSQL', { skip: postgresSkipReason() }, () => {
  let world: MultiNodeWorld;
  const nodes: MailroomNode[] = [];

  before(async () => {
    world = await startMultiNodeWorld();
    // No delivery role anywhere: the queue keeps everything accepted, to be counted.
    nodes.push(...await Promise.all(['limit-a', 'limit-b'].map((name) => startNode({ name, roles: 'smtp', databaseUrl: world.database.url }))));
  });
  after(async () => {
    for (const node of nodes) await node.stop();
    for (const node of nodes) forgetNode(node);
    await world?.close();
  });

  test(`${3 * LIMIT} concurrent recipients through two nodes against a limit of ${LIMIT}: exactly ${LIMIT} accepted`, async (t) => {
    const sender = await world.createSender('limited.example', LIMIT);
    const outcome = await submitAll({
      targets: nodes.map((node) => ({ name: node.id, host: '127.0.0.1', port: node.port('submission (plain') })),
      connectionsPerTarget: CONNECTIONS_PER_NODE, auth: { user: sender.email, pass: sender.secret }, bodyLines: 2,
      messages: Array.from({ length: 3 * LIMIT }, (_, i) => ({ tag: `limit-${i}`, from: sender.email, to: [`someone${i}@elsewhere.example`] })),
    });

    const refusals = [...outcome.refused.values()];
    const byNode = nodes.map((node) => [...outcome.acknowledged.values()].filter((ack) => ack.target === node.id).length);
    t.diagnostic(`accepted ${outcome.acknowledged.size} (${byNode.join(' + ')} by node), refused ${refusals.length}: `
      + `${refusals.filter((r) => !r.afterData).length} at RCPT, ${refusals.filter((r) => r.afterData).length} by the commit after DATA`);
    assert.equal(outcome.unknown.size + outcome.unsent.length, 0);
    assert.equal(outcome.acknowledged.size, LIMIT, 'no overshoot, no undershoot');
    for (const refusal of refusals) assert.match(refusal.reply, /^451 4\.7\.1 /);

    const queued = await world.store.db.selectFrom('deliveries').select(sql<number>`count(*)`.as('n')).where('account_id', '=', sender.accountId).executeTakeFirstOrThrow();
    const counted = await world.store.db.selectFrom('usage').select(sql<number>`coalesce(sum(count), 0)`.as('n')).where('account_id', '=', sender.accountId).executeTakeFirstOrThrow();
    assert.deepEqual([Number(queued.n), Number(counted.n)], [LIMIT, LIMIT], 'queued deliveries and the usage counter agree with the limit');
  });
});
