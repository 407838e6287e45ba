/**
 * What an operator reads: with the default settings and stdout not a
 * terminal, every stdout line is a JSON object (the start-up banner is on
 * stderr, the SIGTERM line is JSON); MAILROOM_LOG_FORMAT=pretty prints human
 * lines; and a message accepted over SMTP or the API logs the same fields.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describeEachStore, createTestDatabase, type TestDatabase } from '../support/stores.ts';
import { cliEnv, startService } from '../support/cli.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { openDialogue } from '../support/smtp-dialogue.ts';
import { apiClient } from '../api/client.ts';
import { waitFor } from '../support/wait.ts';
import { loadConfig } from '../../src/config/load.ts';
import { startMailroom, type RunningMailroom } from '../../src/main.ts';

const SERVICE_ENV = { MAILROOM_ROLES: 'smtp,http', MAILROOM_SMTP_HOST: '127.0.0.1', MAILROOM_SMTP_PORT: '0', MAILROOM_SMTPS_PORT: 'off', MAILROOM_HTTP_HOST: '127.0.0.1', MAILROOM_HTTP_PORT: '0', MAILROOM_LOG_LEVEL: 'info' };

describeEachStore('service logs', (engine) => {
  const databases: TestDatabase[] = [];
  after(async () => { for (const database of databases) await database.drop(); });

  async function run(extra: Record<string, string>): Promise<{ stdout: string; stderr: string; code: number | null }> {
    const database = await createTestDatabase(engine);
    databases.push(database);
    const service = await startService(cliEnv(database, { ...SERVICE_ENV, ...extra }));
    service.child.kill('SIGTERM');
    const { code } = await service.exited;
    return { stdout: service.stdout(), stderr: service.stderr(), code };
  }

  it('prints only JSON lines on stdout: the banner goes to stderr, the SIGTERM line is JSON', async () => {
    const { stdout, stderr, code } = await run({});
    assert.equal(code, 0);
    assert.match(stderr, /^Mailroom is running \(node \S+, \w+ store\):\n {2}submission/);
    const lines = stdout.split('\n').filter((line) => line !== '');
    assert.ok(lines.length >= 3, stdout);
    const entries = lines.map((line) => {
      try {
        return JSON.parse(line) as { event?: string; signal?: string; msg: string };
      } catch {
        assert.fail(`not JSON on stdout: ${line}`);
      }
    });
    assert.ok(entries.some((e) => e.event === 'listener.ready'));
    const signal = entries.find((e) => e.event === 'shutdown.signal');
    assert.equal(signal?.signal, 'SIGTERM');
    assert.equal(signal?.msg, 'SIGTERM received, stopping gracefully');
  });

  it('prints human lines with MAILROOM_LOG_FORMAT=pretty', async () => {
    const { stdout, code } = await run({ MAILROOM_LOG_FORMAT: 'pretty' });
    assert.equal(code, 0);
    assert.match(stdout, /INFO.*: listening: submission \(plain, STARTTLS offered\) on 127\.0\.0\.1:\d+/);
    assert.match(stdout, /INFO.*: SIGTERM received, stopping gracefully/);
    assert.ok(stdout.split('\n').filter((line) => line.startsWith('{')).length === 0, stdout);
  });

  describeAccepted(engine);
});

function describeAccepted(engine: 'sqlite' | 'postgres'): void {
  let mailroom: TestMailroom;
  let running: RunningMailroom;
  const logged: Array<Record<string, unknown>> = [];

  before(async () => {
    // A store and a sender made the usual way, then a node whose log this test reads.
    mailroom = await startTestMailroom(engine, { MAILROOM_ROLES: 'http' });
    const sink = new Writable({ write(chunk, _encoding, done) { for (const line of String(chunk).split('\n')) if (line) logged.push(JSON.parse(line)); done(); } });
    const config = loadConfig({
      MAILROOM_DATABASE_URL: mailroom.database.url, MAILROOM_DATA_DIR: mailroom.database.dataDir, MAILROOM_HOSTNAME: 'mailroom.test',
      MAILROOM_SMTP_HOST: '127.0.0.1', MAILROOM_SMTP_PORT: '0', MAILROOM_SMTPS_PORT: 'off', MAILROOM_HTTP_HOST: '127.0.0.1', MAILROOM_HTTP_PORT: '0',
      MAILROOM_ROLES: 'smtp,http', MAILROOM_NODE_ID: `logs-${engine}`,
    });
    running = await startMailroom(config, pino({ level: 'info' }, sink));
  });
  after(async () => {
    await running?.stop();
    await mailroom?.stop();
  });

  it('logs message.accepted with the same fields for SMTP and the API', async () => {
    const sender = await mailroom.createSender();
    const port = (name: string) => running.listeners.find((l) => l.name.startsWith(name))!.port;

    const smtp = await openDialogue(port('submission (plain'));
    try {
      await smtp.ehlo();
      await smtp.authPlain(sender.email, sender.secret);
      await smtp.say(`MAIL FROM:<${sender.email}>`);
      await smtp.say('RCPT TO:<someone@elsewhere.example>');
      await smtp.say('DATA');
      assert.match(await smtp.say(`From: ${sender.email}\r\nTo: someone@elsewhere.example\r\nSubject: by SMTP\r\n\r\nHello.\r\n.`), /^250 /);
    } finally {
      smtp.close();
    }
    const api = await apiClient(port('http'), sender.secret).post('/api/v1/messages', { from: sender.email, to: 'someone@elsewhere.example', subject: 'by API', text: 'Hello.' });
    assert.equal(api.status, 202, JSON.stringify(api.body));

    const accepted = await waitFor('two message.accepted lines', () => {
      const found = logged.filter((entry) => entry.event === 'message.accepted');
      return found.length === 2 ? found : undefined;
    }, 10_000);
    const bySource = new Map(accepted.map((entry) => [entry.source, entry]));
    const fields = (entry: Record<string, unknown> | undefined) => Object.keys(entry ?? {}).filter((k) => !['time', 'pid', 'hostname'].includes(k)).sort();
    assert.deepEqual(fields(bySource.get('smtp')), fields(bySource.get('api')));
    assert.deepEqual(fields(bySource.get('api')), ['account', 'clientIp', 'event', 'level', 'messageId', 'msg', 'recipients', 'size', 'source']);
    for (const entry of accepted) {
      assert.equal(entry.account, sender.email);
      assert.equal(entry.recipients, 1);
      assert.equal(entry.clientIp, '127.0.0.1');
      assert.ok(Number(entry.size) > 20);
    }
  });
}
