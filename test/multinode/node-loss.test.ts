/**
 * Three real Mailroom processes on one PostgreSQL: A (smtp, http, delivery),
 * B (smtp, delivery), C (delivery only). Thousands of messages go in through
 * A and B; B is SIGKILLed mid-run, after it acknowledged some, then started
 * again under the same id. Every acknowledged message must reach the MX; the
 * bounces among them must each produce a DSN and a webhook.
 *
 * Delivery is at-least-once: a delivery B had handed to the MX but whose
 * outcome it had not yet committed when it died is sent again by whichever
 * node takes it once B's lease runs out. So duplicates are counted, and each
 * must be one of the deliveries B held a lease on when it was killed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createWebhook } from '../../src/events/webhooks.ts';
import { listNodes } from '../../src/nodes/registry.ts';
import { forgetNode, mailroomCli, postgresSkipReason, startNode, type MailroomNode, type NodeOptions } from './cluster.ts';
import { submitAll, type OutgoingMessage, type SubmitOutcome } from './submitter.ts';
import { waitFor } from '../support/wait.ts';
import { duplicatesIn, ledger, startMultiNodeWorld, type MultiNodeWorld } from './world.ts';
import { startWebhookSink, type WebhookSink } from '../support/webhook-sink.ts';

const PHASE_ONE = 2000;
const PHASE_TWO = 200;
const KILL_AFTER_B_ACKNOWLEDGED = 300;
const SENDER_DOMAIN = 'loss-sender.example';
const DESTINATIONS = ['dest0.example', 'dest1.example', 'dest2.example'];

interface KillReport {
  acknowledgedByB: number;
  /** "message_id recipient" of every delivery B held a live lease on. */
  heldByB: Set<string>;
  heldDsnsByB: number;
  heldWebhooksByB: number;
  /** What `nodes list` (the same function) said B held: [deliveries, webhooks]. */
  listedForB: [number, number];
}

describe('node loss: SIGKILL a node mid-run on PostgreSQL', { skip: postgresSkipReason() }, () => {
  let world: MultiNodeWorld;
  let hooks: WebhookSink;
  const nodes = new Set<MailroomNode>();

  before(async () => {
    world = await startMultiNodeWorld();
    hooks = await startWebhookSink();
    for (const domain of [...DESTINATIONS, SENDER_DOMAIN]) world.route(domain);
    world.mx.script({ rejectRcpt: (address) => (address.startsWith('bounce') ? '550 5.1.1 User unknown' : null) });
  });
  after(async () => {
    for (const node of nodes) await node.stop();
    for (const node of nodes) forgetNode(node);
    await hooks?.close();
    await world?.close();
  });

  async function start(options: Omit<NodeOptions, 'databaseUrl' | 'env'>): Promise<MailroomNode> {
    const node = await startNode({
      ...options, databaseUrl: world.database.url,
      env: { ...world.deliveryEnv, MAILROOM_LEASE_TIME: '3s', MAILROOM_HEARTBEAT_INTERVAL: '1s' },
    });
    nodes.add(node);
    return node;
  }

  test('every acknowledged message arrives; duplicates come only from the killed node\'s leases', async (t) => {
    const sender = await world.createSender(SENDER_DOMAIN, 1_000_000);
    await createWebhook(world.store, sender.accountId, { url: hooks.url, events: ['bounced'] });
    let [a, b] = await Promise.all([
      start({ name: 'node-a', roles: 'smtp,http,delivery' }),
      start({ name: 'node-b', roles: 'smtp,delivery' }),
      start({ name: 'node-c', roles: 'delivery' }),
    ]);
    const auth = { user: sender.email, pass: sender.secret };
    const target = (node: MailroomNode) => ({ name: node.id, host: '127.0.0.1', port: node.port('submission (plain') });

    // Phase one: A and B take submissions; B dies once it acknowledged enough, and is started again.
    const chaos: { killed?: Promise<KillReport>; restarted?: Promise<MailroomNode> } = {};
    const first = await submitAll({
      targets: [target(a), target(b)], connectionsPerTarget: 8, auth, messages: messages('p1', PHASE_ONE, sender.email),
      onAcknowledged(_tag, by, outcome) {
        if (chaos.killed || by !== b.id || countBy(outcome, b.id) < KILL_AFTER_B_ACKNOWLEDGED) return;
        chaos.killed = killB(countBy(outcome, b.id));
        chaos.restarted = chaos.killed.then(() => start({ name: 'node-b', roles: 'smtp,delivery', dataDir: b.dataDir }));
        chaos.restarted.catch(() => {}); // awaited below; this only keeps an early failure from being reported as unhandled
      },
    });

    async function killB(acknowledgedByB: number): Promise<KillReport> {
      await b.kill('SIGKILL');
      // B is gone: nobody extends its leases, and nobody may take them before they run out.
      // One snapshot for every count, so they agree however slow this machine is.
      return world.store.db.transaction().setIsolationLevel('repeatable read').execute(async (tx) => {
        const at = Date.now();
        const held = await tx.selectFrom('deliveries').select(['message_id', 'recipient', 'account_id'])
          .where('lease_owner', '=', b.id).where('status', 'in', ['queued', 'deferred']).where('next_attempt_at', '>', at).execute();
        const webhooks = await tx.selectFrom('webhook_deliveries').select(sql<number>`count(*)`.as('n'))
          .where('lease_owner', 'like', `${b.id}/%`).where('status', '=', 'pending').where('next_attempt_at', '>', at).executeTakeFirstOrThrow();
        const listed = (await listNodes({ ...world.store, db: tx }, at)).find((n) => n.id === b.id);
        return {
          acknowledgedByB, heldByB: new Set(held.map((d) => `${d.message_id} ${d.recipient}`)), heldDsnsByB: held.filter((d) => d.account_id === null).length,
          heldWebhooksByB: Number(webhooks.n), listedForB: [listed?.leasedDeliveries ?? -1, listed?.leasedWebhooks ?? -1],
        };
      });
    }

    assert.ok(chaos.killed && chaos.restarted, `node B was not killed: it acknowledged only ${countBy(first, b.id)}`);
    const kill = await chaos.killed;
    assert.deepEqual(kill.listedForB, [kill.heldByB.size, kill.heldWebhooksByB], 'nodes list shows what the killed node still holds');
    const newB = await chaos.restarted;
    assert.equal(newB.id, b.id, 'a restarted node keeps its id');
    b = newB;

    // Phase two: the restarted B takes submissions again.
    const second = await submitAll({ targets: [target(a), target(b)], connectionsPerTarget: 4, auth, messages: messages('p2', PHASE_TWO, sender.email) });
    assert.equal(second.acknowledged.size, PHASE_TWO, `phase two: ${[...[...second.refused.values()].map((r) => r.reply), ...second.unknown.values()].slice(0, 3).join('; ')}`);

    const all = [...messages('p1', PHASE_ONE, sender.email), ...messages('p2', PHASE_TWO, sender.email)];
    const acknowledged = new Map([...first.acknowledged, ...second.acknowledged]);
    const wanted = all.filter((m) => acknowledged.has(m.tag));
    const expectedMail = wanted.flatMap((m) => m.to.filter((to) => !to.startsWith('bounce')).map((to) => `${m.tag} ${to}`));
    const expectedDsns = wanted.filter((m) => m.to.some((to) => to.startsWith('bounce'))).map((m) => m.tag);
    const missing = () => {
      const arrived = ledger(world.mx.received);
      return [...expectedMail.filter((key) => !arrived.mail.has(key)), ...expectedDsns.filter((tag) => !arrived.dsns.has(tag)).map((tag) => `DSN for ${tag}`)];
    };
    await waitFor(`${expectedMail.length} deliveries and ${expectedDsns.length} DSNs at the MX`, () => missing().length === 0, 120_000, 500)
      .catch(async (error: Error) => {
        const open = await world.store.db.selectFrom('deliveries').select(['recipient', 'status', 'attempt_count', 'lease_owner', 'next_attempt_at', 'last_reply'])
          .where('status', 'in', ['queued', 'deferred']).limit(3).execute();
        throw new Error(`${error.message}; ${missing().length} missing, e.g. ${missing().slice(0, 3).join(', ')}; still queued: ${JSON.stringify(open)} (now ${Date.now()})`);
      });
    await waitFor('an empty queue', async () => (await openDeliveries(world)) === 0, 30_000, 200);
    const bounced = await world.store.db.selectFrom('message_events').select(['id', 'delivery_id']).where('type', '=', 'bounced').where('account_id', '=', sender.accountId).execute();
    assert.equal(new Set(bounced.map((e) => e.delivery_id)).size, bounced.length, 'each bounce is recorded once, whichever node attempted it');
    assert.ok(bounced.length >= expectedDsns.length);
    // A webhook lease is longer than a mail lease (its own setting): one that B held takes a while to fall due.
    await waitFor(`${bounced.length} bounce webhooks`, () => bounced.every((e) => hooks.received.some((h) => h.id === `evt_${e.id}`)), 60_000, 500)
      .catch(async (error: Error) => {
        // Say which events never reached the endpoint, and where their outbox rows stand.
        const lacking = bounced.filter((e) => !hooks.received.some((h) => h.id === `evt_${e.id}`)).map((e) => Number(e.id));
        const rows = await world.store.db.selectFrom('webhook_deliveries')
          .select(['event_id', 'status', 'attempt_count', 'lease_owner', 'next_attempt_at', 'last_status_code', 'last_error'])
          .where('event_id', 'in', lacking.length > 0 ? lacking : [-1]).limit(5).execute();
        throw new Error(`${error.message}; ${lacking.length} missing, e.g. events ${lacking.slice(0, 5).join(', ')}; their outbox rows: ${JSON.stringify(rows)} (now ${Date.now()})`);
      });

    // What the operator sees: the three nodes alive, with their roles.
    const listed = await mailroomCli(['nodes', 'list', '--json'], world.database.url);
    assert.equal(listed.code, 0, listed.stderr);
    const live = JSON.parse(listed.stdout) as Array<{ id: string; roles: string[]; alive: boolean; leasedDeliveries: number; leasedWebhooks: number }>;
    assert.deepEqual(live.map((n) => [n.id, n.roles.join(','), n.alive, n.leasedDeliveries, n.leasedWebhooks]),
      [['node-a', 'smtp,http,delivery', true, 0, 0], ['node-b', 'smtp,delivery', true, 0, 0], ['node-c', 'delivery', true, 0, 0]]);
    const health = await (await fetch(`http://127.0.0.1:${a.port('http')}/healthz`)).json() as { node: string; roles: string[] };
    assert.deepEqual([health.node, health.roles], ['node-a', ['smtp', 'http', 'delivery']]);

    // The count, and the reason for every duplicate.
    const arrived = ledger(world.mx.received);
    const tagOfQueueId = new Map([...acknowledged].map(([tag, ack]) => [ack.queueId, tag]));
    const heldKeys = new Set([...kill.heldByB].map((held) => {
      const [messageId, recipient] = held.split(' ');
      return `${tagOfQueueId.get(messageId) ?? messageId} ${recipient}`;
    }));
    const mailDuplicates = duplicatesIn(arrived.mail);
    const dsnDuplicates = duplicatesIn(arrived.dsns);
    const webhookDuplicates = duplicatesIn(countById(hooks.received.map((h) => h.id)));
    const unknownArrived = [...first.unknown.keys()].filter((tag) => [...arrived.mail.keys()].some((key) => key.startsWith(`${tag} `))).length;
    t.diagnostic(`acknowledged ${acknowledged.size} messages: ${expectedMail.length} deliveries, ${expectedDsns.length} bounces; B acknowledged ${kill.acknowledgedByB} before SIGKILL`);
    t.diagnostic(`B held ${kill.heldByB.size} delivery leases (${kill.heldDsnsByB} of them DSNs) and ${kill.heldWebhooksByB} webhook leases when killed`);
    t.diagnostic(`duplicates: ${mailDuplicates.length} deliveries, ${dsnDuplicates.length} DSNs, ${webhookDuplicates.length} webhooks`);
    t.diagnostic(`in flight on B's connections when it died (no reply): ${first.unknown.size}, of which delivered anyway: ${unknownArrived}`);
    assert.equal(first.refused.size, 0, [...first.refused.values()].slice(0, 3).map((r) => r.reply).join('; '));
    assert.equal(first.acknowledged.size + first.unknown.size + first.unsent.length, PHASE_ONE);
    assert.deepEqual(mailDuplicates.filter((key) => !heldKeys.has(key)), [], 'every duplicate delivery was one B held when it was killed');
    assert.ok(dsnDuplicates.length <= kill.heldDsnsByB, `DSN duplicates (${dsnDuplicates.length}) only from DSN deliveries B held (${kill.heldDsnsByB})`);
    assert.ok(webhookDuplicates.length <= kill.heldWebhooksByB, `webhook duplicates (${webhookDuplicates.length}) only from webhook sends B held (${kill.heldWebhooksByB})`);
  });
});

/** One recipient each; every 7th message a second one on another domain; every 40th a recipient the MX refuses (a new one each time: a refused address is suppressed). */
function messages(phase: string, count: number, from: string): OutgoingMessage[] {
  return Array.from({ length: count }, (_, i) => {
    const to = [`r${i}@${DESTINATIONS[i % 3]}`];
    if (i % 7 === 0) to.push(`s${i}@${DESTINATIONS[(i + 1) % 3]}`);
    if (i % 40 === 1) to.push(`bounce-${phase}-${i}@${DESTINATIONS[(i + 2) % 3]}`);
    return { tag: `${phase}-${i}`, from, to };
  });
}

function countBy(outcome: SubmitOutcome, nodeId: string): number {
  let n = 0;
  for (const ack of outcome.acknowledged.values()) if (ack.target === nodeId) n++;
  return n;
}

function countById(ids: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

async function openDeliveries(world: MultiNodeWorld): Promise<number> {
  const row = await world.store.db.selectFrom('deliveries').select(sql<number>`count(*)`.as('n'))
    .where('status', 'in', ['queued', 'deferred']).executeTakeFirstOrThrow();
  return Number(row.n);
}
