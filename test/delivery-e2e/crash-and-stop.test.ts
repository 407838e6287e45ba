/**
 * Durability proven by killing the process. A few hundred messages are
 * acknowledged (250 after DATA), Mailroom is SIGKILLed while it delivers them,
 * and after a restart every acknowledged message reaches the MX at least once;
 * the duplicates (delivered, killed before the outcome was written) are
 * counted and printed. And SIGTERM is a graceful stop: an attempt that can
 * finish does, one that cannot is released for the next node, and the process
 * exits within MAILROOM_SHUTDOWN_TIMEOUT.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { burstSender, headerOf, routeDomainTo, startExtraPeer, type ExtraPeer } from '../support/delivery.ts';
import { waitFor } from '../support/wait.ts';
import { startChildWorld, type ChildWorld } from '../support/child-world.ts';
import type { RunningService } from '../support/cli.ts';

/** Deliveries a node holds at once: the most a SIGKILL can turn into duplicates. */
const DELIVERY_CONCURRENCY = 50;

describeEachStore('crash and graceful stop', (engine) => {
  let world: ChildWorld;
  /** The restarted Mailroom of the SIGKILL test, which the SIGTERM test stops (one start-up fewer). */
  let running: RunningService | null = null;
  const extras: ExtraPeer[] = [];

  before(async () => {
    world = await startChildWorld(engine, 'crash-sender.example');
  });
  after(async () => {
    await world?.close();
    for (const extra of extras) await extra.close();
  });

  function start(): Promise<RunningService> {
    return world.start({ MAILROOM_SHUTDOWN_TIMEOUT: '3s', MAILROOM_DELIVERY_CONCURRENCY: String(DELIVERY_CONCURRENCY) });
  }

  test('SIGKILL while delivering: after a restart every acknowledged message reaches the MX at least once', async (t) => {
    // A slow MX while the messages are submitted, so most are still queued when the kill comes.
    const slow = await startExtraPeer(world.mx.port, 'accept', { latencyMs: 150 });
    extras.push(slow);
    routeDomainTo(world.dns, 'crash.example', slow.ip);
    const total = 200;
    const startedAt = Date.now();
    const first = await start();
    const burst = burstSender(first.submissionPort, world.sender);
    const acknowledged: number[] = [];
    await Promise.all(Array.from({ length: total }, (_, n) =>
      burst.send({ to: `r${n}@crash.example`, subject: `crash ${n}` }).then(() => { acknowledged.push(n); })));
    burst.close();
    const submittedAt = Date.now();
    // Full speed, then the kill in the middle of it.
    slow.setLatency(0);
    const target = Math.min(slow.peer.received.length + 50, Math.floor(total / 2));
    await waitFor('deliveries to get going', () => slow.peer.received.length >= target, 20_000);
    const receivedBeforeKill = slow.peer.received.length;
    first.child.kill('SIGKILL');
    assert.equal((await first.exited).signal, 'SIGKILL');
    t.diagnostic(`acknowledged ${acknowledged.length}/${total} in ${submittedAt - startedAt} ms (start-up included); ${receivedBeforeKill} had reached the MX at SIGKILL`);
    assert.equal(acknowledged.length, total);
    assert.ok(receivedBeforeKill < total, 'the kill came before every message was delivered');

    const restartedAt = Date.now();
    running = await start();
    const subjectOf = (raw: Buffer) => Number(/^crash (\d+)$/.exec(headerOf(raw, 'Subject') ?? '')?.[1]);
    const arrived = () => new Set(slow.peer.received.map((m) => subjectOf(m.raw)));
    await waitFor('every acknowledged message to reach the MX', () => acknowledged.every((n) => arrived().has(n)), 30_000)
      .catch((error: Error) => { throw new Error(`${error.message}; missing: ${acknowledged.filter((n) => !arrived().has(n)).join(', ')}`); });
    t.diagnostic(`after the restart, the rest arrived within ${Date.now() - restartedAt} ms (start-up and lease expiry included)`);

    const counts = new Map<number, number>();
    for (const m of slow.peer.received) counts.set(subjectOf(m.raw), (counts.get(subjectOf(m.raw)) ?? 0) + 1);
    const duplicated = [...counts].filter(([, c]) => c > 1).map(([n]) => n);
    const duplicates = [...counts.values()].reduce((sum, c) => sum + c - 1, 0);
    const summary = `[${engine}] SIGKILL mid-delivery: ${acknowledged.length} acknowledged, ${slow.peer.received.length} received by the MX, ${duplicates} duplicate(s)${duplicated.length ? ` (messages ${duplicated.join(', ')})` : ''}`;
    t.diagnostic(summary);
    console.log(summary);
    assert.ok(duplicates <= DELIVERY_CONCURRENCY, 'a duplicate is an attempt in flight at the kill: at most the deliveries a node holds (MAILROOM_DELIVERY_CONCURRENCY)');

    // The queue agrees: every delivery ends delivered, none is lost in a lease.
    await waitFor('the store to record every delivery', async () => {
      const rows = await world.store.db.selectFrom('deliveries').select(['status']).where('recipient_domain', '=', 'crash.example').execute();
      return rows.length === total && rows.every((r) => r.status === 'delivered');
    }, 15_000);
  });

  test('SIGTERM: a delivery that can finish does, one that cannot is released, and the process exits in time', async () => {
    const slow = await startExtraPeer(world.mx.port, 'accept', { latencyMs: 100 });
    const stalled = await startExtraPeer(world.mx.port, { stall: 'data' });
    extras.push(slow, stalled);
    routeDomainTo(world.dns, 'slow-stop.example', slow.ip);
    routeDomainTo(world.dns, 'stall-stop.example', stalled.ip);
    const child = running ?? await start();
    const burst = burstSender(child.submissionPort, world.sender);
    const finishing = await burst.send({ to: 'a@slow-stop.example', subject: 'finishes' });
    const stuck = await burst.send({ to: 'b@stall-stop.example', subject: 'stuck' });
    burst.close();
    await waitFor('both deliveries to be under way', () => slow.peer.connections > 0 && stalled.peer.connections > 0);

    const signalledAt = Date.now();
    child.child.kill('SIGTERM');
    const exit = await child.exited;
    const took = Date.now() - signalledAt;
    assert.deepEqual(exit, { code: 0, signal: null }, child.output());
    assert.ok(took < 3000 + 2500, `exited ${took} ms after SIGTERM (shutdown timeout 3 s)`);
    assert.ok(took >= 2500, `waited for the stuck delivery before releasing it (${took} ms)`);

    const rows = await world.store.db.selectFrom('deliveries').selectAll().where('message_id', 'in', [finishing, stuck]).execute();
    const byMessage = new Map(rows.map((r) => [r.message_id, r]));
    assert.equal(byMessage.get(finishing)?.status, 'delivered', 'the in-flight delivery that could finish did, and was recorded');
    assert.equal(slow.peer.received.length, 1);
    const released = byMessage.get(stuck)!;
    assert.equal(released.status, 'queued');
    assert.equal(released.lease_owner, null, 'released, not left leased until the lease runs out');
    assert.ok(Number(released.next_attempt_at) <= Date.now(), 'due again at once, for any node');
    assert.equal(released.attempt_count, 0);
  });
});
