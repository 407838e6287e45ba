/**
 * An ACME server that refuses us: the attempt is recorded, logged in plain
 * words with the next attempt's time, and not repeated before the backoff
 * ends — also not by another node sharing the store. (No pebble needed: the
 * "directory" is a loopback HTTP server answering 404.)
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig } from '../../src/config/load.ts';
import { startMailroom, type RunningMailroom } from '../../src/main.ts';
import { readStoredCertificate } from '../../src/tls/certificate-store.ts';
import { createTestDatabase, describeEachStore, type TestDatabase } from '../support/stores.ts';

const MIN = 60 * 1000;

describeEachStore('ACME failures back off', (engine) => {
  let directory: http.Server;
  let requests = 0;
  let database: TestDatabase;
  let node: RunningMailroom;
  let shift = 0;
  const logs: Array<{ event?: string; msg: string; failures?: number }> = [];

  before(async () => {
    directory = http.createServer((_request, response) => {
      requests += 1;
      response.writeHead(404, { 'content-type': 'text/plain' }).end('no ACME here');
    });
    await new Promise<void>((resolve) => directory.listen(0, '127.0.0.1', resolve));
    database = await createTestDatabase(engine);
    const config = loadConfig({
      MAILROOM_DATABASE_URL: database.url, MAILROOM_DATA_DIR: database.dataDir, MAILROOM_HOSTNAME: 'mail.mailroom.test', MAILROOM_ROLES: 'smtp',
      MAILROOM_SMTP_HOST: '127.0.0.1', MAILROOM_SMTP_PORT: '0', MAILROOM_SMTPS_PORT: '0', MAILROOM_SHUTDOWN_TIMEOUT: '2s',
      MAILROOM_ACME_EMAIL: 'ops@mailroom.test', MAILROOM_ACME_DIRECTORY: `http://127.0.0.1:${(directory.address() as { port: number }).port}/directory`,
    });
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
        done();
      },
    });
    node = await startMailroom(config, pino({ level: 'info' }, sink), { certificates: { checkMs: 3_600_000, now: () => Date.now() + shift } });
  });

  after(async () => {
    await node?.stop();
    await new Promise((resolve) => directory?.close(resolve));
    await database?.drop();
  });

  it('records the failure, logs it with the next attempt, and waits for the backoff', async () => {
    await node.certificates!.check();
    const first = await readStoredCertificate(node.store, 'mail.mailroom.test');
    assert.equal(first?.failures, 1);
    assert.match(first?.last_error ?? '', /404/);
    assert.ok(Math.abs(first!.next_attempt_at! - (Date.now() + 5 * MIN)) < MIN, 'about five minutes');
    const line = logs.find((entry) => entry.event === 'acme.failed');
    assert.match(line?.msg ?? '', /^ACME: could not obtain a certificate for mail\.mailroom\.test \(attempt 1 in a row\): .*404.*; next attempt at \d{4}-\d\d-\d\dT/);

    const asked = requests;
    await node.certificates!.check();
    assert.equal(requests, asked, 'nothing asked during the backoff');

    shift = 6 * MIN;
    await node.certificates!.check();
    const second = await readStoredCertificate(node.store, 'mail.mailroom.test');
    assert.equal(second?.failures, 2);
    assert.ok(Math.abs(second!.next_attempt_at! - (Date.now() + shift + 15 * MIN)) < MIN, 'then fifteen minutes');
    // Still serving the self-signed certificate: nothing broke for clients.
    assert.equal(node.certificates!.current().selfSigned, true);
  });
});
