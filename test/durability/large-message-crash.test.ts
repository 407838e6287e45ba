/**
 * A 250 is a promise for large messages too. Mailroom runs as a child
 * process taking only submissions; several connections send 50 KB and 1 MB
 * messages (incompressible base64 lines, different in every message) and the
 * process is SIGKILLed mid-traffic, with more messages in flight. Started
 * again on the same store with delivery on, it must deliver every
 * acknowledged message, its bytes exactly as the client sent them (Mailroom
 * only adds header lines on top).
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describeEachStore, createTestDatabase, type TestDatabase } from '../support/stores.ts';
import { openDialogue, queueIdOf, sendMessage } from '../support/smtp-dialogue.ts';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.ts';
import { startMxPeer, type MxPeer } from '../support/mx-peer.ts';
import { openStore } from '../../src/store/database.ts';
import { createAccount } from '../../src/accounts/accounts.ts';
import { addDomain, domainRecords, forceVerifyDomain, getDomainRow } from '../../src/domains/domains.ts';
import { routeDomainTo } from '../support/delivery.ts';
import { waitFor } from '../support/wait.ts';
import { startService, type RunningService } from '../support/cli.ts';

const HOSTNAME = 'mailroom.test';
const CONNECTIONS = 3;
/** Message sizes the connections take turns with. */
const SIZES = [50 * 1024, 1024 * 1024];
const KILL_AFTER_ACKS = 12;

describeEachStore('large acknowledged mail survives SIGKILL byte for byte', (engine) => {
  let dns: TestDnsServer;
  let mx: MxPeer;
  let database: TestDatabase;
  let sender: { email: string; secret: string };
  const children: RunningService[] = [];

  before(async () => {
    dns = await startDnsServer();
    mx = await startMxPeer();
    database = await createTestDatabase(engine);
    const store = await openStore(database.url);
    try {
      const domain = 'large-sender.example';
      const created = await createAccount(store, { email: `owner@${domain}`, dailyLimit: 100_000 });
      await addDomain(store, created.account.id, domain, HOSTNAME);
      await forceVerifyDomain(store, await getDomainRow(store, domain, null));
      dns.publish(domainRecords(await getDomainRow(store, domain, null), HOSTNAME));
      sender = { email: created.account.email, secret: created.key.secret };
    } finally {
      await store.close();
    }
    routeDomainTo(dns, 'large.example', '127.0.0.1');
  });
  after(async () => {
    for (const child of children) await child.kill();
    await database?.drop();
    await mx?.close();
    await dns?.close();
  });

  async function start(roles: string): Promise<RunningService> {
    const child = await startService({
      ...process.env, MAILROOM_DATABASE_URL: database.url, MAILROOM_DATA_DIR: database.dataDir, MAILROOM_HOSTNAME: HOSTNAME,
      MAILROOM_ROLES: roles, MAILROOM_SMTP_HOST: '127.0.0.1', MAILROOM_SMTP_PORT: '0', MAILROOM_SMTPS_PORT: 'off',
      MAILROOM_DNS_SERVERS: dns.address, MAILROOM_DELIVERY_PORT: String(mx.port), MAILROOM_RETRY_SCHEDULE: '1s',
      MAILROOM_LOG_LEVEL: 'warn',
    }, { timeoutMs: 30_000 });
    children.push(child);
    return child;
  }

  it('delivers every message acknowledged before a kill -9, 50 KB and 1 MB, byte-identical', async (t) => {
    const first = await start('smtp');
    /** What each acknowledged message's client sent (without the DATA terminator), by its number. */
    const acknowledged = new Map<number, Buffer>();
    let killed = false;
    let next = 0;

    const sendUntilKilled = async () => {
      const client = await openDialogue(first.submissionPort);
      try {
        await client.ehlo();
        assert.equal(await client.authPlain(sender.email, sender.secret), '235 2.7.0 Authentication successful');
        while (!killed) {
          const n = next++;
          const data = largeMessage(sender.email, `m${n}@large.example`, n, SIZES[n % SIZES.length]);
          const reply = await sendMessage(client, { from: sender.email, to: [`m${n}@large.example`] }, data.toString('latin1'));
          queueIdOf(reply);
          acknowledged.set(n, data);
          if (acknowledged.size >= KILL_AFTER_ACKS && !killed) {
            killed = true;
            await first.kill();
          }
        }
      } catch (error) {
        // Once the process is gone, the other connections fail mid-message: expected.
        if (!killed) throw error;
      } finally {
        client.close();
      }
    };
    await Promise.all(Array.from({ length: CONNECTIONS }, () => sendUntilKilled()));
    assert.deepEqual(await first.exited, { code: null, signal: 'SIGKILL' });
    assert.ok([...acknowledged.keys()].some((n) => SIZES[n % SIZES.length] > 1_000_000), 'some 1 MB messages were acknowledged');

    await start('smtp,delivery');
    const numberOf = (raw: Buffer) => Number(/^X-Large-Test: (\d+)\r$/m.exec(raw.subarray(0, 8192).toString('latin1'))?.[1]);
    const delivered = () => new Map(mx.received.map((m) => [numberOf(m.raw), m.raw]));
    await waitFor('every acknowledged message to be delivered', () => [...acknowledged.keys()].every((n) => delivered().has(n)), 60_000)
      .catch((error: Error) => { throw new Error(`${error.message}; missing: ${[...acknowledged.keys()].filter((n) => !delivered().has(n)).join(', ')}`); });
    for (const [n, sent] of acknowledged) {
      const raw = delivered().get(n)!;
      // Mailroom adds Received (and DKIM-Signature) above the client's headers and changes nothing else.
      assert.ok(raw.length > sent.length && raw.subarray(raw.length - sent.length).equals(sent), `message ${n} (${sent.length} bytes) arrived byte for byte`);
    }
    t.diagnostic(`[${engine}] ${acknowledged.size} large messages acknowledged before the kill, all delivered intact after the restart`);
  });
});

/** A message of about `size` bytes whose body is random base64 in 76-character lines (no line starts with a dot). */
function largeMessage(from: string, to: string, n: number, size: number): Buffer {
  const headers = [`From: ${from}`, `To: ${to}`, `Subject: large ${n}`, `X-Large-Test: ${n}`, 'MIME-Version: 1.0',
    'Content-Type: application/octet-stream', 'Content-Transfer-Encoding: base64', '', ''].join('\r\n');
  const encoded = randomBytes(Math.ceil((size * 3) / 4)).toString('base64');
  const lines = encoded.match(/.{1,76}/g)!;
  return Buffer.from(`${headers}${lines.join('\r\n')}\r\n`, 'latin1');
}
