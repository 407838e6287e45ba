/**
 * `250 queued as <id>` is a promise that survives a crash. The real service
 * runs as a child process; several connections keep sending, and the moment
 * enough 250s are in, the process is SIGKILLed mid-traffic. Every
 * acknowledged queue id must then be in the store with one delivery per
 * recipient, and the service must start again on the same store.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore, createTestDatabase, type TestDatabase } from '../support/stores.ts';
import { cliEnv, startService, type RunningService } from '../support/cli.ts';
import { message, openDialogue, queueIdOf, sendMessage } from '../support/smtp-dialogue.ts';
import { openStore } from '../../src/store/database.ts';
import { createAccount } from '../../src/accounts/accounts.ts';
import { addDomain, forceVerifyDomain, getDomainRow } from '../../src/domains/domains.ts';

const CONNECTIONS = 4;
const KILL_AFTER_ACKS = 24;

describeEachStore('acknowledged mail survives SIGKILL', (engine) => {
  let database: TestDatabase;
  let env: NodeJS.ProcessEnv;
  let sender: { email: string; secret: string };
  const services: RunningService[] = [];

  before(async () => {
    database = await createTestDatabase(engine);
    const store = await openStore(database.url);
    try {
      const created = await createAccount(store, { email: 'ops@durable.example', dailyLimit: 100_000 });
      await addDomain(store, created.account.id, 'durable.example', 'mailroom.test');
      await forceVerifyDomain(store, await getDomainRow(store, 'durable.example', null));
      sender = { email: created.account.email, secret: created.key.secret };
    } finally {
      await store.close();
    }
    env = cliEnv(database, {
      MAILROOM_ROLES: 'smtp', MAILROOM_SMTP_HOST: '127.0.0.1', MAILROOM_SMTP_PORT: '0', MAILROOM_SMTPS_PORT: 'off',
    });
  });
  after(async () => {
    for (const service of services) if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL');
    await database?.drop();
  });

  it('finds every acknowledged message and its deliveries after a kill -9, and starts again', async () => {
    const service = await startService(env);
    services.push(service);
    const acknowledged = new Map<string, string[]>();
    let killed = false;

    const sendUntilKilled = async (connection: number) => {
      const client = await openDialogue(service.submissionPort);
      try {
        await client.ehlo();
        assert.equal(await client.authPlain(sender.email, sender.secret), '235 2.7.0 Authentication successful');
        for (let n = 0; !killed; n++) {
          const recipients = Array.from({ length: 1 + ((connection + n) % 3) }, (_, i) => `c${connection}m${n}r${i}@rcpt.example`);
          const reply = await sendMessage(client, { from: sender.email, to: recipients }, message(sender.email, recipients[0]));
          acknowledged.set(queueIdOf(reply), recipients);
          if (acknowledged.size >= KILL_AFTER_ACKS && !killed) {
            killed = true;
            service.child.kill('SIGKILL');
          }
        }
      } catch (error) {
        // Once the process is gone, the other connections fail mid-transaction: expected.
        if (!killed) throw error;
      } finally {
        client.close();
      }
    };
    await Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => sendUntilKilled(i)));
    assert.deepEqual(await service.exited, { code: null, signal: 'SIGKILL' });
    assert.ok(acknowledged.size >= KILL_AFTER_ACKS);

    const store = await openStore(database.url);
    try {
      const ids = [...acknowledged.keys()];
      const messages = await store.db.selectFrom('messages').select('id').where('id', 'in', ids).execute();
      assert.deepEqual(messages.map((m) => m.id).sort(), [...ids].sort(), 'every acknowledged message is stored');
      const deliveries = await store.db.selectFrom('deliveries').select(['message_id', 'recipient']).where('message_id', 'in', ids).execute();
      for (const [id, recipients] of acknowledged) {
        const found = deliveries.filter((d) => d.message_id === id).map((d) => d.recipient).sort();
        assert.deepEqual(found, [...recipients].sort(), `one delivery per recipient of ${id}`);
      }
    } finally {
      await store.close();
    }

    // The same store, a new process: it comes up and takes mail again.
    const restarted = await startService(env);
    services.push(restarted);
    const client = await openDialogue(restarted.submissionPort);
    await client.ehlo();
    assert.equal(await client.authPlain(sender.email, sender.secret), '235 2.7.0 Authentication successful');
    queueIdOf(await sendMessage(client, { from: sender.email, to: ['after@rcpt.example'] }, message(sender.email, 'after@rcpt.example')));
    client.close();
    restarted.child.kill('SIGTERM');
    assert.deepEqual(await restarted.exited, { code: 0, signal: null });
    assert.match(restarted.output(), /SIGTERM received, stopping gracefully/);
  });
});
