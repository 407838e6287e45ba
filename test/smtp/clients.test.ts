/**
 * Independent SMTP clients, as users configure them: Nodemailer (in this
 * process), Python's smtplib and swaks (child processes, when installed).
 * Each logs in with AUTH PLAIN — over STARTTLS, unsecured, and over implicit
 * TLS — and gets `250 2.0.0 queued as <id>` for a message that is in the store.
 *
 * Children run asynchronously: the server they talk to lives on this event loop.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import nodemailer from 'nodemailer';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';

const run = promisify(execFile);
type Mode = 'starttls' | 'plain' | 'ssl';
const MODES: readonly Mode[] = ['starttls', 'plain', 'ssl'];

const PYTHON = ['/usr/bin/python3', 'python3'].find((candidate) => !candidate.startsWith('/') || existsSync(candidate))!;
const SWAKS = ['/usr/bin/swaks', '/usr/local/bin/swaks'].find((path) => existsSync(path));

const SMTPLIB_SCRIPT = `
import json, smtplib, ssl, sys
host, port, mode, user, password, sender, rcpt = sys.argv[1:]
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
client = smtplib.SMTP_SSL(host, int(port), context=context, timeout=10) if mode == 'ssl' else smtplib.SMTP(host, int(port), timeout=10)
client.ehlo('python.client.test')
if mode == 'starttls':
    client.starttls(context=context)
    client.ehlo('python.client.test')
client.user, client.password = user, password
code, auth_reply = client.auth('PLAIN', client.auth_plain)
client.mail(sender)
client.rcpt(rcpt)
body = f'From: {sender}\\r\\nTo: {rcpt}\\r\\nSubject: from smtplib\\r\\n\\r\\nHello from Python.\\r\\n'
code, reply = client.data(body.encode())
client.quit()
print(json.dumps({'auth': auth_reply.decode(), 'code': code, 'reply': reply.decode()}))
`;

describeEachStore('independent SMTP clients', (engine) => {
  let mailroom: TestMailroom;
  let sender: { email: string; secret: string; accountId: string };

  const portFor = (mode: Mode) => mailroom.port(mode === 'ssl' ? 'submissions' : 'submission');
  const assertStored = async (id: string, recipient: string, received: RegExp) => {
    const row = await mailroom.running.store.db.selectFrom('messages').select(['account_id', 'raw']).where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(row.account_id, sender.accountId);
    assert.match(Buffer.from(row.raw).toString('utf8'), received);
    const deliveries = await mailroom.running.store.db.selectFrom('deliveries').select('recipient').where('message_id', '=', id).execute();
    assert.deepEqual(deliveries.map((d) => d.recipient), [recipient]);
  };
  const protocolFor = (mode: Mode) => (mode === 'plain' ? /with ESMTPA id / : /with ESMTPSA id /);

  before(async () => {
    mailroom = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp' });
    sender = await mailroom.createSender({ domain: 'apps.example' });
  });
  after(() => mailroom?.stop());

  for (const mode of MODES) {
    it(`Nodemailer, AUTH PLAIN, ${mode}`, async () => {
      const transport = nodemailer.createTransport({
        host: '127.0.0.1', port: portFor(mode), secure: mode === 'ssl', ignoreTLS: mode === 'plain', requireTLS: mode === 'starttls',
        auth: { user: sender.email, pass: sender.secret }, authMethod: 'PLAIN', tls: { rejectUnauthorized: false },
      });
      try {
        const info = await transport.sendMail({ from: `"App" <app@apps.example>`, to: `node-${mode}@rcpt.example`, subject: 'from nodemailer', text: 'Hello.' });
        const match = /^250 2\.0\.0 queued as (\S+)$/.exec(info.response);
        assert.ok(match, info.response);
        await assertStored(match[1], `node-${mode}@rcpt.example`, protocolFor(mode));
      } finally {
        transport.close();
      }
    });
  }

  it('Nodemailer sees 535 and the reply words for a wrong key', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: portFor('plain'), secure: false, auth: { user: sender.email, pass: 'mr_wrong' }, tls: { rejectUnauthorized: false } });
    try {
      await assert.rejects(transport.sendMail({ from: 'app@apps.example', to: 'x@rcpt.example', text: 'x' }), (error: { code?: string; responseCode?: number; response?: string }) => {
        assert.equal(error.code, 'EAUTH');
        assert.equal(error.responseCode, 535);
        assert.match(error.response ?? '', /^535 5\.7\.8 /);
        return true;
      });
    } finally {
      transport.close();
    }
  });

  for (const mode of MODES) {
    it(`Python smtplib, AUTH PLAIN, ${mode}`, async () => {
      const { stdout } = await run(PYTHON, ['-c', SMTPLIB_SCRIPT, '127.0.0.1', String(portFor(mode)), mode, sender.email, sender.secret, 'py@apps.example', `py-${mode}@rcpt.example`], { timeout: 20_000 });
      const result = JSON.parse(stdout) as { auth: string; code: number; reply: string };
      assert.equal(result.auth, '2.7.0 Authentication successful');
      assert.equal(result.code, 250);
      const match = /^2\.0\.0 queued as (\S+)$/.exec(result.reply);
      assert.ok(match, result.reply);
      await assertStored(match[1], `py-${mode}@rcpt.example`, protocolFor(mode));
    });
  }

  for (const mode of MODES) {
    it(`swaks, AUTH PLAIN, ${mode}`, { skip: SWAKS ? false : 'swaks is not installed' }, async () => {
      const tlsFlag = mode === 'starttls' ? ['--tls'] : mode === 'ssl' ? ['--tlsc'] : [];
      const { stdout } = await run(SWAKS!, [
        '--server', '127.0.0.1', '--port', String(portFor(mode)), ...tlsFlag, '--auth', 'PLAIN', '--auth-user', sender.email,
        '--auth-password', sender.secret, '--from', 'swaks@apps.example', '--to', `swaks-${mode}@rcpt.example`,
        '--header', 'Subject: from swaks', '--helo', 'swaks.client.test', '--timeout', '10',
      ], { timeout: 20_000 });
      assert.match(stdout, /<[-~] +235 2\.7\.0 Authentication successful/);
      const match = /<[-~] +250 2\.0\.0 queued as (\S+)/.exec(stdout);
      assert.ok(match, stdout);
      await assertStored(match[1], `swaks-${mode}@rcpt.example`, protocolFor(mode));
    });
  }
});
