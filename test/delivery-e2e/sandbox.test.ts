/**
 * Sandbox mode end to end, with a delivery worker and a real MX peer: mail
 * from a sandboxed key (API and SMTP) or account is accepted, checked,
 * DKIM-signed and recorded as `sandboxed` — and never reaches the MX, while
 * mail from the same account's ordinary key does. New accounts start in the
 * sandbox when MAILROOM_NEW_ACCOUNTS_SANDBOXED is on, until an admin lifts it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import nodemailer from 'nodemailer';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { describeEachStore } from '../support/stores.ts';
import { routeDomainToPeer, startDeliveryWorld, type DeliveryWorld } from '../support/delivery-world.ts';
import { apiClient, type ApiClient } from '../api/client.ts';
import { waitFor } from '../support/wait.ts';
import { createAccount } from '../../src/accounts/accounts.ts';
import { domainRecords, getDomainRow } from '../../src/domains/domains.ts';

describeEachStore('sandbox mode', (engine) => {
  let world: DeliveryWorld;
  let api: ApiClient;
  let sandboxApi: ApiClient;
  let sandboxSecret: string;

  before(async () => {
    world = await startDeliveryWorld(engine, { env: { MAILROOM_NEW_ACCOUNTS_SANDBOXED: 'true' } });
    routeDomainToPeer(world.dns, 'dest.example');
    api = apiClient(world.mailroom.port('http'), world.sender.secret);
    const key = await api.post('/api/v1/keys', { name: 'ci', sandbox: true });
    assert.equal(key.status, 201);
    sandboxSecret = key.body.secret;
    sandboxApi = apiClient(world.mailroom.port('http'), sandboxSecret);
  });
  after(async () => { await world?.close(); });

  const statuses = async (id: string) => (await api.get(`/api/v1/messages/${id}`)).body.recipients
    .map((r: { address: string; status: string }) => [r.address, r.status]).sort((a: string[], b: string[]) => a[0].localeCompare(b[0]));

  /** Checks the signature stored at acceptance with an independent verifier against the published DKIM record. */
  const verifiesDkim = async (id: string) => {
    const row = await world.mailroom.running.store.db.selectFrom('messages').select(['raw', 'dkim_signature']).where('id', '=', id).executeTakeFirstOrThrow();
    assert.ok(row.dkim_signature, 'signed at acceptance');
    const records = domainRecords(await getDomainRow(world.mailroom.running.store, world.sender.domain, null), 'mailroom.test');
    const dkim = records.find((r) => r.purpose === 'dkim')!;
    const resolver = async (name: string, type: string) => {
      if (type === 'TXT' && name === dkim.name) return [[dkim.value]];
      throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    };
    const result = await dkimVerify(Buffer.concat([Buffer.from(row.dkim_signature), Buffer.from(row.raw)]), { resolver });
    return result.results.map((r: { status: { result: string } }) => r.status.result);
  };

  test('a sandboxed key: accepted over the API and SMTP, signed, recorded as sandboxed, delivered nowhere', async () => {
    const viaApi = await sandboxApi.post('/api/v1/messages', { from: world.sender.email, to: ['a@dest.example', 'b@dest.example'], subject: 'sandboxed', text: 'x' });
    assert.equal(viaApi.status, 202);
    const smtp = nodemailer.createTransport({
      host: '127.0.0.1', port: world.mailroom.port('submission'), secure: false, ignoreTLS: true, auth: { user: world.sender.email, pass: sandboxSecret },
    });
    const info = await smtp.sendMail({ from: world.sender.email, to: 'c@dest.example', subject: 'sandboxed smtp', text: 'y' });
    smtp.close();
    const viaSmtp = /queued as (\S+)/.exec(info.response)![1];

    assert.deepEqual(await statuses(viaApi.body.id), [['a@dest.example', 'sandboxed'], ['b@dest.example', 'sandboxed']]);
    assert.deepEqual(await statuses(viaSmtp), [['c@dest.example', 'sandboxed']]);
    assert.deepEqual(await verifiesDkim(viaApi.body.id), ['pass']);
    assert.deepEqual(await verifiesDkim(viaSmtp), ['pass']);

    // The ordinary key of the same account still delivers; once its mail is in, the worker has had every chance.
    const control = await api.post('/api/v1/messages', { from: world.sender.email, to: 'real@dest.example', subject: 'real', text: 'z' });
    await world.mx.waitFor(1, 10_000);
    await waitFor('control delivered', async () => ((await statuses(control.body.id))[0][1] === 'delivered' ? true : undefined), 10_000);
    assert.deepEqual(world.mx.transmitted.map((m) => m.rcptTo), [['real@dest.example']]);
    assert.deepEqual(await statuses(viaApi.body.id), [['a@dest.example', 'sandboxed'], ['b@dest.example', 'sandboxed']]);

    const listed = await api.get('/api/v1/messages?status=sandboxed');
    assert.deepEqual(listed.body.items.map((m: { id: string }) => m.id).sort(), [viaApi.body.id, viaSmtp].sort());
    const events = await world.mailroom.running.store.db.selectFrom('message_events').select(['type']).where('message_id', '=', viaSmtp).orderBy('id').execute();
    assert.deepEqual(events.map((e) => e.type), ['accepted', 'sandboxed']);
  });

  test('sandboxed mail is checked like real mail: an unverified sender is refused', async () => {
    const refused = await sandboxApi.post('/api/v1/messages', { from: 'someone@unverified.example', to: 'a@dest.example', subject: 's', text: 't' });
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
  });

  test('new accounts start in the sandbox when configured, until an administrator lifts it', async () => {
    const { key: adminKey } = await createAccount(world.mailroom.running.store, { email: 'root@example.com', dailyLimit: 10, isAdmin: true });
    const admin = apiClient(world.mailroom.port('http'), adminKey.secret);
    const created = await admin.post('/api/v1/admin/accounts', { email: 'trial@example.com' });
    assert.equal(created.status, 201);
    const trial = apiClient(world.mailroom.port('http'), created.body.key.secret);
    assert.deepEqual((await trial.get('/api/v1/sandbox')).body, { sandbox: true });
    assert.deepEqual((await api.get('/api/v1/sandbox')).body, { sandbox: false }, 'an account made before stays as it was');

    const notAdmin = await trial.call('PUT', `/api/v1/admin/accounts/${created.body.account.id}/sandbox`, { body: { sandbox: false } });
    assert.equal(notAdmin.status, 403, 'an account cannot lift its own sandbox');
    const lifted = await admin.call('PUT', `/api/v1/admin/accounts/${created.body.account.id}/sandbox`, { body: { sandbox: false } });
    assert.deepEqual(lifted.body, { sandbox: false });
    assert.deepEqual((await trial.get('/api/v1/sandbox')).body, { sandbox: false });
    assert.equal((await admin.call('PUT', '/api/v1/admin/accounts/nope/sandbox', { body: { sandbox: true } })).status, 404);
  });
});
