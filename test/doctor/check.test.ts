/**
 * "Check my settings" against a running Mailroom, the way Gmail connects:
 * each failure class stops at the step Gmail would stop at, in plain words,
 * and a good setup passes every step on both SSL and STARTTLS. The HTTP
 * endpoints run behind the API's real authentication.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import pino from 'pino';
import { authenticate } from '../../src/api/auth.ts';
import { installErrorHandling } from '../../src/api/errors.ts';
import { createSecretKey, revokeSecretKey } from '../../src/accounts/keys.ts';
import { checkSettings, type CheckReport, type ConnectionCheck } from '../../src/doctor/check.ts';
import { doctorRoutes } from '../../src/api/routes/doctor.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { describeEachStore } from '../support/stores.ts';
import { createLeaf, createTestCa, storeCertificate, type Pem } from '../support/test-certificates.ts';

type Sender = Awaited<ReturnType<TestMailroom['createSender']>>;

describeEachStore('Send-As doctor: check my settings', (engine) => {
  let mailroom: TestMailroom;
  let ca: Pem;
  let sender: Sender;
  let app: FastifyInstance;

  const ports = () => [{ port: mailroom.port('submissions'), connection: 'ssl' as const }, { port: mailroom.port('submission'), connection: 'starttls' as const }];
  const check = (key: string, extra: { caCerts?: string; from?: string } = {}) =>
    checkSettings({ host: mailroom.config.hostname, address: '127.0.0.1', ports: ports(), email: sender.email, key, ...extra });
  const statuses = (connection: ConnectionCheck) => Object.fromEntries(connection.steps.map((s) => [s.step, s.status]));
  const step = (connection: ConnectionCheck, name: string) => connection.steps.find((s) => s.step === name)!;
  const postCheck = async (body: object): Promise<CheckReport> => {
    const response = await app.inject({ method: 'POST', url: '/api/v1/doctor/check', headers: { authorization: `Bearer ${sender.secret}` }, payload: body });
    assert.equal(response.statusCode, 200, response.body);
    return response.json();
  };

  before(async () => {
    mailroom = await startTestMailroom(engine);
    ca = await createTestCa();
    sender = await mailroom.createSender();
    const { running } = mailroom;
    app = Fastify({ logger: false });
    const typed = app.withTypeProvider<TypeBoxTypeProvider>();
    installErrorHandling(typed, pino({ level: 'silent' }));
    await typed.register(async (scope) => {
      scope.addHook('onRequest', authenticate(running.store));
      await scope.register(doctorRoutes, {
        store: running.store, config: mailroom.config, listeners: running.listeners, recorder: running.smtpSessions, caCerts: ca.cert,
      });
    }, { prefix: '/api/v1' });
  });
  after(async () => {
    await app?.close();
    await mailroom?.stop();
  });

  it('with the generated self-signed certificate, both ways stop at "certificate trusted"', async () => {
    const report = await check(sender.secret);
    assert.equal(report.ok, false);
    for (const connection of report.connections) {
      assert.deepEqual(statuses(connection), { connect: 'passed', tls: 'passed', 'certificate-trusted': 'failed', 'name-matches': 'skipped', auth: 'skipped' });
      assert.match(step(connection, 'certificate-trusted').words, /self-signed: Gmail refuses it/);
    }
    assert.match(report.summary, /^Gmail would refuse these settings: The certificate is self-signed/);
  });

  it('with a trusted certificate for the host and a live key, every step passes on SSL and STARTTLS', async () => {
    await storeCertificate(mailroom.running.store, mailroom.config.hostname, await createLeaf({ names: [mailroom.config.hostname], ca }));
    await mailroom.running.certificates!.check();
    const report = await check(sender.secret, { caCerts: ca.cert });
    assert.equal(report.ok, true, JSON.stringify(report, null, 2));
    for (const connection of report.connections) {
      assert.ok(connection.steps.every((s) => s.status === 'passed'));
      assert.match(step(connection, 'tls').words, /^TLS is up \(TLSv1\.[23], /);
      assert.match(step(connection, 'certificate-trusted').words, /signed by Mailroom Tests/);
      assert.equal(step(connection, 'auth').words, `Logged in as ${sender.email} with AUTH PLAIN.`);
    }
    assert.match(report.summary, new RegExp(`^Gmail can send through ${mailroom.config.hostname}: port ${mailroom.port('submissions')} with "Secured connection using SSL"`));
  });

  it('a revoked key and a mistyped key fail at AUTH, and the endpoint says which', async () => {
    const old = await createSecretKey(mailroom.running.store.db, sender.accountId, 'laptop');
    await revokeSecretKey(mailroom.running.store, old.id, sender.accountId);
    const revoked = await postCheck({ key: old.secret });
    assert.equal(revoked.ok, false);
    assert.deepEqual(revoked.connections.map((c) => c.connection), ['ssl', 'starttls', 'unsecured']);
    for (const connection of revoked.connections) {
      if (connection.connection !== 'unsecured') assert.equal(step(connection, 'name-matches').status, 'passed');
      assert.equal(step(connection, 'auth').status, 'failed');
      assert.match(step(connection, 'auth').words, /refused the username and password.*This key was revoked on \d{4}-/);
    }
    const mistyped = await postCheck({ key: `${sender.secret.slice(0, -1)}#` });
    assert.match(step(mistyped.connections[0], 'auth').words, /not a secret key of any account/);
    assert.match(mistyped.summary, /^Gmail would refuse these settings: Mailroom refused the username and password/);
  });

  it('a sender on a domain the account has not added fails at the sender step', async () => {
    const report = await postCheck({ key: sender.secret, from: 'me@unverified.example' });
    for (const connection of report.connections) {
      assert.equal(step(connection, 'auth').status, 'passed');
      assert.equal(step(connection, 'sender').status, 'failed');
      assert.match(step(connection, 'sender').words, /refuses me@unverified\.example as the sender: Sender domain unverified\.example is not a domain of your account; add it/);
    }
  });

  it('the doctor\'s sessions endpoint shows those logins and their reasons; it needs authentication', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/doctor/sessions', headers: { authorization: `Bearer ${sender.secret}` } });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    const codes = new Set(body.sessions.map((s: { problem: { code: string } | null }) => s.problem?.code ?? 'ok'));
    for (const code of ['ok', 'revoked-key', 'wrong-key', 'domain-not-added']) assert.ok(codes.has(code), `${code} in ${[...codes]}`);
    assert.ok(body.sessions.every((s: { clientIp: string }) => s.clientIp === '127.0.0.1'));
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/doctor/sessions' })).statusCode, 401);
  });

  it('"Unsecured connection" (the guide\'s port 25 choice): AUTH in the clear on the plain port, no certificate involved', async () => {
    const plain = [{ port: mailroom.port('submission'), connection: 'unsecured' as const }];
    const report = await checkSettings({ host: mailroom.config.hostname, address: '127.0.0.1', ports: plain, email: sender.email, key: sender.secret, from: sender.email });
    assert.equal(report.ok, true, JSON.stringify(report, null, 2));
    assert.deepEqual(statuses(report.connections[0]), { connect: 'passed', auth: 'passed', sender: 'passed' });
    assert.equal(report.connections[0].gmailLabel, 'Unsecured connection');
    assert.match(report.summary, new RegExp(`port ${mailroom.port('submission')} with "Unsecured connection"`));

    const wrong = await checkSettings({ host: mailroom.config.hostname, address: '127.0.0.1', ports: plain, email: sender.email, key: 'mr_wrong' });
    assert.deepEqual(statuses(wrong.connections[0]), { connect: 'passed', auth: 'failed' });
    assert.match(step(wrong.connections[0], 'auth').words, /refused the username and password/);
  });

  it('when only the clear works (a certificate Gmail refuses), the summary says the secured choices fail', async () => {
    await storeCertificate(mailroom.running.store, mailroom.config.hostname, await createLeaf({ names: ['elsewhere.example.test'], ca }));
    await mailroom.running.certificates!.check();
    const report = await postCheck({ key: sender.secret });
    assert.equal(report.ok, true);
    assert.deepEqual(report.connections.map((c) => [c.connection, c.ok]), [['ssl', false], ['starttls', false], ['unsecured', true]]);
    assert.match(report.summary, /"Unsecured connection".*Only in the clear, though: the secured choices fail \(The certificate is for elsewhere\.example\.test/);
  });

  it('a certificate for another name fails at "name matches", naming both', async () => {
    await storeCertificate(mailroom.running.store, mailroom.config.hostname, await createLeaf({ names: ['other.example.test'], ca }));
    await mailroom.running.certificates!.check();
    const report = await check(sender.secret, { caCerts: ca.cert });
    for (const connection of report.connections) {
      assert.equal(step(connection, 'certificate-trusted').status, 'passed');
      assert.equal(step(connection, 'name-matches').status, 'failed');
      assert.match(step(connection, 'name-matches').words, new RegExp(`is for other\\.example\\.test, not for ${mailroom.config.hostname}`));
    }
  });

  it('nothing listening: the connect step says so', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const report = await checkSettings({ host: mailroom.config.hostname, address: '127.0.0.1', ports: [{ port, connection: 'ssl' }], email: sender.email, key: sender.secret });
    assert.equal(report.connections[0].steps[0].status, 'failed');
    assert.match(report.connections[0].steps[0].words, /nothing listens there/);
    assert.deepEqual(report.connections[0].steps.slice(1).map((s) => s.status), ['skipped', 'skipped', 'skipped', 'skipped']);
  });
});
