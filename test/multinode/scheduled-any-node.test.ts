/**
 * Scheduled sends on a cluster (PostgreSQL, real `mailroom start` processes):
 * a message scheduled through node A, which has no delivery role, is sent on
 * time by delivery node B; two delivery nodes releasing the same due mail
 * send it once. (SQLite is one node: the scheduled e2e suite covers it.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { forgetNode, postgresSkipReason, startNode, type MailroomNode } from './cluster.ts';
import { waitFor } from '../support/wait.ts';
import { startMultiNodeWorld, type MultiNodeWorld, type Sender } from './world.ts';

describe('scheduled sends on several nodes (PostgreSQL)', { skip: postgresSkipReason() }, () => {
  let world: MultiNodeWorld;
  let sender: Sender;
  const nodes: MailroomNode[] = [];

  before(async () => {
    world = await startMultiNodeWorld();
    world.route('dest.example');
    sender = await world.createSender('sched-sender.example', 1000);
    const base = { databaseUrl: world.database.url, env: world.deliveryEnv };
    nodes.push(await startNode({ ...base, name: 'A', roles: 'http' }));
    nodes.push(await startNode({ ...base, name: 'B', roles: 'delivery' }));
    nodes.push(await startNode({ ...base, name: 'C', roles: 'delivery' }));
  });
  after(async () => {
    for (const node of nodes) await node.stop();
    for (const node of nodes) forgetNode(node);
    await world?.close();
  });

  test('scheduled through a node without delivery, sent once, on time, by the delivery nodes', async () => {
    const sendAt = new Date(Date.now() + 3000).toISOString();
    const to = Array.from({ length: 20 }, (_, i) => `r${i}@dest.example`);
    const response = await fetch(`http://127.0.0.1:${nodes[0].port('http')}/api/v1/messages/batch`, {
      method: 'POST', headers: { authorization: `Bearer ${sender.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: sender.email, subject: 'later', text: 't', sendAt, recipients: to.map((address) => ({ to: address })) }),
    });
    assert.equal(response.status, 202, await response.clone().text());
    await waitFor('all 20 delivered', () => world.mx.received.length >= 20, 30_000, 200);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const received = world.mx.received.flatMap((m) => m.rcptTo);
    assert.deepEqual([...received].sort(), [...to].sort(), 'each once');
    assert.ok(world.mx.received.every((m) => m.at >= Date.parse(sendAt)), 'none before its time');
  });
});
