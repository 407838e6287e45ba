/**
 * A crash never blocks the restart that recovers from it. Mailroom is
 * started the way an operator does, `npx mailroom start` in a process group
 * of its own; while it accepts and delivers, the whole group is SIGKILLed
 * (npx and node die together; node may linger unreaped as a zombie), and it
 * is started again the moment its port closes. It must start at once (no
 * "node id … is already used") and deliver every acknowledged message at
 * least once; the duplicates are counted and printed. A third process under
 * the same id while that one lives is refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describeEachStore } from '../support/stores.ts';
import { burstSender, headerOf, routeDomainTo, startExtraPeer, type ExtraPeer } from '../support/delivery.ts';
import { waitFor } from '../support/wait.ts';
import { startChildWorld, type ChildWorld } from '../support/child-world.ts';
import type { RunningService } from '../support/cli.ts';

const DELIVERY_CONCURRENCY = 20;

describeEachStore('restart right after a crash', (engine) => {
  let world: ChildWorld;
  let slow: ExtraPeer;

  before(async () => {
    world = await startChildWorld(engine, 'restart-sender.example');
    slow = await startExtraPeer(world.mx.port, 'accept', { latencyMs: 100 });
    routeDomainTo(world.dns, 'restart.example', slow.ip);
  });
  after(async () => {
    await world?.close();
    await slow?.close();
  });

  function start(): Promise<RunningService> {
    return world.start({
      MAILROOM_HEARTBEAT_INTERVAL: '1s', MAILROOM_DELIVERY_CONCURRENCY: String(DELIVERY_CONCURRENCY),
    }, { launch: 'npx', timeoutMs: 30_000 });
  }

  test('SIGKILL of the npx process group under load, restart as soon as the port closes: it starts, and every acknowledged message arrives', async (t) => {
    const first = await start();
    const burst = burstSender(first.submissionPort, world.sender);
    const acknowledged: number[] = [];
    let killed = false;
    // Submission keeps going until the kill: some sends are cut off, only the 250s count.
    const sending = (async () => {
      for (let n = 0; !killed; n += 10) {
        await Promise.all(Array.from({ length: 10 }, (_, i) => burst.send({ to: `r${n + i}@restart.example`, subject: `restart ${n + i}` })
          .then(() => { acknowledged.push(n + i); }, () => {})));
      }
    })();
    await waitFor('mail to be acknowledged and delivered', () => acknowledged.length >= 60 && slow.peer.received.length >= 10, 30_000);
    killed = true;
    await first.kill();
    await sending;
    burst.close();
    const receivedAtKill = slow.peer.received.length;
    await waitFor('the submission port to close', () => portClosed(first.submissionPort), 10_000);

    const restartedAt = Date.now();
    const second = await start();
    const startedIn = Date.now() - restartedAt;
    assert.doesNotMatch(second.output(), /already used/);
    const subjectOf = (raw: Buffer) => Number(/^restart (\d+)$/.exec(headerOf(raw, 'Subject') ?? '')?.[1]);
    const arrived = () => new Set(slow.peer.received.map((m) => subjectOf(m.raw)));
    await waitFor('every acknowledged message to arrive', () => acknowledged.every((n) => arrived().has(n)), 60_000)
      .catch((error: Error) => { throw new Error(`${error.message}; missing: ${acknowledged.filter((n) => !arrived().has(n)).join(', ')}`); });

    const counts = new Map<number, number>();
    for (const m of slow.peer.received) counts.set(subjectOf(m.raw), (counts.get(subjectOf(m.raw)) ?? 0) + 1);
    const duplicates = [...counts.values()].reduce((sum, c) => sum + c - 1, 0);
    const summary = `[${engine}] npx group SIGKILL: ${acknowledged.length} acknowledged, ${receivedAtKill} delivered before the kill, restarted in ${startedIn} ms, ${slow.peer.received.length} received, ${duplicates} duplicate(s)`;
    t.diagnostic(summary);
    console.log(summary);
    assert.ok(duplicates <= DELIVERY_CONCURRENCY, 'a duplicate is an attempt in flight at the kill: at most the deliveries a node holds');

    // Only a second *live* process under the id is refused, with the message operators know.
    const duplicate = await start().then(() => 'started', (error: Error) => error.message);
    assert.match(duplicate, /node id \S+ is already used by process \d+ on this host; give each node its own MAILROOM_NODE_ID/);
    assert.equal(second.child.exitCode, null, 'the live node runs on');
    await second.kill();
  });
});

function portClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('connect', () => { socket.destroy(); resolve(false); });
    socket.on('error', () => resolve(true));
  });
}
