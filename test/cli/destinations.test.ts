/**
 * `mailroom destinations list|pin|unpin` as child processes on the store of a running
 * Mailroom: the learnt limits and the reply behind them, and a pin its delivery engine obeys.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { cliEnv, runCli, runCliJson } from '../support/cli.ts';
import { EXIT } from '../../src/cli/context.ts';
import { applySignal } from '../../src/queue/shaping-store.ts';
import type { DestinationView } from '../../src/delivery/destination-view.ts';
import { GMAIL_RATE_LIMITED } from '../support/throttling-mx.ts';

describeEachStore('mailroom destinations (CLI)', (engine) => {
  let mailroom: TestMailroom;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    mailroom = await startTestMailroom(engine, { MAILROOM_ROLES: 'delivery', MAILROOM_DESTINATION_CONCURRENCY: '8' });
    env = cliEnv(mailroom.database, { MAILROOM_DESTINATION_CONCURRENCY: '8' });
    await mailroom.running.store.db.transaction().execute((tx) => applySignal(tx, engine, {
      site: 'google', signal: 'throttle', suspendMs: 0, now: Date.now(), observedRate: 20, defaultConcurrency: 8, reply: GMAIL_RATE_LIMITED, rule: 'gmail-rate-limit',
    }));
  });
  after(async () => { await mailroom?.stop(); });

  it('lists each site with its limits and the reply that changed them', async () => {
    const { code, json } = await runCliJson<DestinationView[]>(['destinations', 'list'], env);
    assert.equal(code, EXIT.ok);
    assert.equal(json.length, 1);
    assert.equal(json[0].site, 'google');
    assert.equal(json[0].rate, 14);
    assert.equal(json[0].concurrency, 5);
    assert.equal(json[0].lastChange?.reply, GMAIL_RATE_LIMITED);
    const text = await runCli(['destinations', 'list'], env);
    assert.match(text.stdout, /^google\t5 connections, 14 msg\/s \(learnt\)\t.*decreased at .*: 421 4\.7\.28 /m);
  });

  it('pins a limit that the running delivery engine applies, and lifts it', async () => {
    const pinned = await runCli(['destinations', 'pin', 'google', '--concurrency', '2', '--rate', '0.5'], env);
    assert.equal(pinned.code, EXIT.ok, pinned.output);
    assert.match(pinned.stdout, /Pinned google: 2 connections, 0\.5 msg\/s/);
    const shaper = mailroom.running.shaper!;
    await shaper.sync();
    assert.deepEqual(shaper.limits('google'), { concurrency: 2, rate: 0.5, suspendedUntil: null });

    const unpinned = await runCli(['destinations', 'unpin', 'google'], env);
    assert.equal(unpinned.code, EXIT.ok, unpinned.output);
    await shaper.sync();
    assert.deepEqual(shaper.limits('google'), { concurrency: 5, rate: 14, suspendedUntil: null });
  });

  it('refuses a pin without limits or with a bad value, and an unknown site', async () => {
    const none = await runCliJson<{ error: { code: string } }>(['destinations', 'pin', 'google'], env);
    assert.equal(none.code, EXIT.invalid);
    assert.equal(none.json.error.code, 'invalid_pin');
    const bad = await runCliJson<{ error: { code: string } }>(['destinations', 'pin', 'google', '--rate', 'fast'], env);
    assert.equal(bad.code, EXIT.invalid);
    assert.equal(bad.json.error.code, 'invalid_rate');
    const unknown = await runCli(['destinations', 'unpin', 'nowhere.example'], env);
    assert.equal(unknown.code, EXIT.notFound);
  });
});
