/**
 * Adaptive shaping against a loopback MX that rate-limits like Gmail (421 4.7.28 above N
 * messages a second): Mailroom slows down for the site, the mail held back is not counted as
 * attempts (the retry schedule here is an hour, so a deferral that used it would not arrive
 * within the test), and everything is delivered. Then the same with two delivery engines on
 * one store: both apply the one shared limit.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { describeEachStore } from '../support/stores.ts';
import { routeDomainToPeer, startDeliveryWorld, type DeliveryWorld } from '../support/delivery-world.ts';
import { throttleAbove } from '../support/throttling-mx.ts';
import { loadConfig } from '../../src/config/load.ts';
import { startMailroom, type RunningMailroom } from '../../src/main.ts';
import { readSites } from '../../src/queue/shaping-store.ts';
import type { Store } from '../../src/store/database.ts';
import { waitFor } from '../support/wait.ts';

const LIMIT = 8;
const MESSAGES = 60;

/** Ten submissions at a time, so the queue fills faster than the MX allows. */
async function sendMany(world: DeliveryWorld, domain: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 10) {
    const batch = Array.from({ length: Math.min(10, count - i) }, (_, j) => world.send({ to: `user${i + j}@${domain}`, subject: `shaping ${i + j}` }));
    ids.push(...await Promise.all(batch));
  }
  return ids;
}

/** Every delivery of these messages delivered, each with exactly one attempt (the successful one). */
async function assertDeliveredOnce(store: Store, ids: string[]): Promise<void> {
  const deliveries = await store.db.selectFrom('deliveries').select(['status', 'attempt_count']).where('message_id', 'in', ids).execute();
  assert.equal(deliveries.length, ids.length);
  assert.deepEqual(new Set(deliveries.map((d) => d.status)), new Set(['delivered']));
  assert.deepEqual(new Set(deliveries.map((d) => Number(d.attempt_count))), new Set([1]), 'held back mail used no attempt');
  const attempts = await store.db.selectFrom('attempts').select(['outcome']).where('message_id', 'in', ids).execute();
  assert.equal(attempts.length, ids.length, 'one attempt row per recipient: the delivery');
  assert.ok(attempts.every((a) => a.outcome === 'delivered'));
}

describeEachStore('adaptive shaping', (engine) => {
  let world: DeliveryWorld;
  let second: RunningMailroom | null = null;
  const throttle = throttleAbove(LIMIT);
  before(async () => {
    world = await startDeliveryWorld(engine, { behaviour: throttle, env: { MAILROOM_RETRY_SCHEDULE: '1h' } });
    routeDomainToPeer(world.dns, world.sender.domain);
  });
  after(async () => {
    await second?.stop();
    await world?.close();
  });

  test('a site that answers 421 4.7.28 gets slower; nothing held back is an attempt; everything arrives', async () => {
    const domain = 'throttled.example';
    routeDomainToPeer(world.dns, domain);
    const ids = await sendMany(world, domain, MESSAGES);
    const toSite = () => world.mx.received.filter((m) => m.rcptTo[0].endsWith(`@${domain}`));
    await waitFor(`${MESSAGES} messages at the MX`, () => toSite().length >= MESSAGES, 90_000);
    assert.ok(throttle.refused > 0, 'the MX did throttle (otherwise this test proves nothing)');
    // Pushing on at the same pace, every refused message would be refused again and again.
    assert.ok(throttle.refused < MESSAGES, `Mailroom slowed down instead of pushing on: ${throttle.refused} refusals for ${MESSAGES} messages`);

    const [site] = await readSites(world.mailroom.running.store.db, `mx.${domain}`);
    assert.ok(site, 'the site is known in the store');
    assert.ok(site.rate !== null && site.rate < LIMIT * 2, `a rate was learnt: ${site.rate}`);
    assert.match(site.reason ?? '', /^421 4\.7\.28 /, 'the reply that caused the decrease is kept');
    assert.equal(site.reasonRule, 'gmail-rate-limit');
    assert.deepEqual(site.domains, [domain]);
    await waitFor('statistics reported', async () => {
      const [s] = await readSites(world.mailroom.running.store.db, `mx.${domain}`);
      return s.delivered === MESSAGES && s.throttled === throttle.refused;
    });
    await assertDeliveredOnce(world.mailroom.running.store, ids);
  });

  test('two delivery engines on one store apply one shared limit', async () => {
    const domain = 'shared.example';
    routeDomainToPeer(world.dns, domain);
    const before = throttle.refused;
    const first = world.mailroom.running;
    second = await startMailroom(loadConfig({
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MAILROOM_'))),
      MAILROOM_DATABASE_URL: world.mailroom.database.url,
      MAILROOM_DATA_DIR: `${world.mailroom.database.dataDir}/second`,
      MAILROOM_NODE_ID: 'second-delivery-engine',
      MAILROOM_ROLES: 'delivery',
      MAILROOM_HOSTNAME: 'mailroom.test',
      MAILROOM_DNS_SERVERS: world.dns.address,
      MAILROOM_DELIVERY_PORT: String(world.mx.port),
      MAILROOM_RETRY_SCHEDULE: '1h',
      MAILROOM_LOG_LEVEL: 'silent',
    }), pino({ level: 'silent' }), { deliveryPollMs: 100, dnsCacheMs: 0 });
    const shapers = [first.shaper!, second.shaper!];
    await waitFor('both engines to see two delivery nodes', async () => {
      await Promise.all(shapers.map((s) => s.sync()));
      return shapers.every((s) => s.limits('no-such-site').concurrency === first.config.destinationConcurrency);
    });

    const ids = await sendMany(world, domain, MESSAGES);
    const toSite = () => world.mx.received.filter((m) => m.rcptTo[0].endsWith(`@${domain}`));
    await waitFor(`${MESSAGES} messages at the MX`, () => toSite().length >= MESSAGES, 90_000);
    const refused = throttle.refused - before;
    assert.ok(refused > 0, 'the MX did throttle');
    assert.ok(refused < MESSAGES, `the two engines slowed down together: ${refused} refusals for ${MESSAGES} messages`);

    // Both engines read the shared state, and each applies half of its rate.
    const site = `mx.${domain}`;
    for (const shaper of shapers) {
      await shaper.sync();
      const known = shaper.sites().find((s) => s.site === site);
      assert.ok(known?.rate, 'the engine knows the learnt rate');
      assert.equal(shaper.limits(site).rate, known.rate / 2);
    }
    await assertDeliveredOnce(first.store, ids);
  });
});
