/**
 * Scoped secret keys, through both doors: a key limited to some senders, its
 * own daily limit, a channel, client address ranges and an expiry date is
 * held to them over SMTP and over the API alike (one authorisation point),
 * with the refusal naming the scope; a key made without a scope may do all
 * its account may. The key list shows each key's usage and last use.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { message, openDialogue, sendMessage, type SmtpDialogue } from '../support/smtp-dialogue.ts';
import { apiClient } from '../api/client.ts';
import { Replies, formatReply } from '../../src/smtp/replies.ts';
import { addDomain, forceVerifyDomain, getDomainRow } from '../../src/domains/domains.ts';
import { createSecretKey } from '../../src/accounts/keys.ts';
import { waitFor } from '../support/wait.ts';
import type { KeyScopeInput } from '../../src/accounts/key-scope-input.ts';

const QUEUED = /^250 2\.0\.0 queued as \S+$/;

describeEachStore('scoped secret keys over SMTP and the API', (engine) => {
  let mailroom: TestMailroom;
  let owner: { email: string; secret: string; accountId: string; domain: string };
  const SECOND = 'second.example';
  const open: SmtpDialogue[] = [];

  const keyWith = async (scope: KeyScopeInput) => (await createSecretKey(mailroom.running.store.db, owner.accountId, 'scoped', scope)).secret;
  const login = async (secret: string, localAddress?: string) => {
    const client = await openDialogue(mailroom.port('submission'), { localAddress });
    open.push(client);
    await client.ehlo();
    return { client, reply: await client.authPlain(owner.email, secret) };
  };
  const loggedIn = async (secret: string) => {
    const { client, reply } = await login(secret);
    assert.equal(reply, '235 2.7.0 Authentication successful');
    return client;
  };
  const smtpSend = async (secret: string, from: string, to: string[], headerFrom = from) =>
    sendMessage(await loggedIn(secret), { from, to }, message(headerFrom, to[0]));
  const api = (secret: string) => apiClient(mailroom.port('http'), secret);
  const apiSend = (secret: string, from: string, to: string | string[]) => api(secret).post('/api/v1/messages', { from, to, subject: 's', text: 't' });

  before(async () => {
    mailroom = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp,http' });
    owner = await mailroom.createSender({ domain: 'first.example', dailyLimit: 1000 });
    await addDomain(mailroom.running.store, owner.accountId, SECOND, mailroom.config.hostname);
    await forceVerifyDomain(mailroom.running.store, await getDomainRow(mailroom.running.store, SECOND, null));
  });
  after(async () => {
    for (const client of open) client.close();
    await mailroom?.stop();
  });

  it('limits the senders to the addresses and whole domains named, envelope and header From alike, on both doors', async () => {
    const secret = await keyWith({ from: ['printer@first.example', SECOND] });
    const scope = 'printer@first.example or any address at second.example';
    assert.match(await smtpSend(secret, 'printer@first.example', ['r@rcpt.example']), QUEUED);
    assert.match(await smtpSend(secret, `anyone@${SECOND}`, ['r@rcpt.example']), QUEUED);
    const outside = Replies.senderOutsideKeyScope('ceo@first.example', scope);
    assert.equal(formatReply(outside), `550 5.7.1 This key may send only as ${scope}; ceo@first.example is outside its scope`);
    const client = await loggedIn(secret);
    assert.equal(await client.say('MAIL FROM:<ceo@first.example>'), formatReply(outside), 'refused at MAIL FROM');
    // The envelope is in scope, the header From is not: refused at the end of DATA.
    assert.equal(await smtpSend(secret, 'printer@first.example', ['r@rcpt.example'], 'ceo@first.example'), formatReply(outside));

    assert.equal((await apiSend(secret, `news@${SECOND}`, 'r@rcpt.example')).status, 202);
    const refused = await apiSend(secret, 'ceo@first.example', 'r@rcpt.example');
    assert.equal(refused.status, 403);
    assert.deepEqual(refused.body.error, { code: 'sender_outside_key_scope', message: `This key may send only as ${scope}; ceo@first.example is outside its scope`, field: 'from' });

    // The account's own key was made before any scope: it keeps sending as any address of the account.
    assert.match(await smtpSend(owner.secret, 'ceo@first.example', ['r@rcpt.example']), QUEUED);
  });

  it("holds a key to its own daily limit within the account's, counting both doors, and leaves other keys alone", async () => {
    const secret = await keyWith({ dailyLimit: 3 });
    assert.match(await smtpSend(secret, 'a@first.example', ['r1@rcpt.example', 'r2@rcpt.example']), QUEUED);
    assert.equal((await apiSend(secret, 'a@first.example', 'r3@rcpt.example')).status, 202);
    const client = await loggedIn(secret);
    assert.equal(await client.say('MAIL FROM:<a@first.example>'), '250 2.1.0 Accepted');
    assert.match(await client.say('RCPT TO:<r4@rcpt.example>'), /^451 4\.7\.1 This key's daily sending limit of 3 emails reached; it resets at \S+Z$/);
    const overApi = await apiSend(secret, 'a@first.example', 'r4@rcpt.example');
    assert.equal(overApi.status, 429);
    assert.equal(overApi.body.error.code, 'key_daily_limit_reached');
    assert.ok(Number(overApi.headers.get('retry-after')) > 0);
    assert.match(await smtpSend(owner.secret, 'a@first.example', ['r4@rcpt.example']), QUEUED, 'the account has room left for its other keys');
  });

  it('keeps an smtp key off the API and an api key off SMTP and off every API route but sending', async () => {
    const smtpOnly = await keyWith({ channel: 'smtp' });
    assert.match(await smtpSend(smtpOnly, 'a@first.example', ['r@rcpt.example']), QUEUED);
    const viaApi = await apiSend(smtpOnly, 'a@first.example', 'r@rcpt.example');
    assert.equal(viaApi.status, 403);
    assert.equal(viaApi.body.error.code, 'key_channel');
    assert.match(viaApi.body.error.message, /only over SMTP/);

    const apiOnly = await keyWith({ channel: 'api' });
    assert.equal((await login(apiOnly)).reply, formatReply(Replies.keyNotForSmtp()));
    assert.equal((await apiSend(apiOnly, 'a@first.example', 'r@rcpt.example')).status, 202);
    const listing = await api(apiOnly).get('/api/v1/keys');
    assert.equal(listing.status, 403, 'a sending key cannot list (or make) keys');
    assert.equal(listing.body.error.code, 'key_channel');
  });

  it('refuses a key outside its client address ranges, and after its expiry, without counting a failed login', async () => {
    const secret = await keyWith({ ipRanges: ['127.0.0.2/32', '10.0.0.0/8'] });
    assert.equal((await login(secret, '127.0.0.1')).reply, formatReply(Replies.keyIpNotAllowed('127.0.0.1', ['127.0.0.2/32', '10.0.0.0/8'])));
    assert.equal((await login(secret, '127.0.0.2')).reply, '235 2.7.0 Authentication successful');
    const overApi = await apiSend(secret, 'a@first.example', 'r@rcpt.example');
    assert.equal(overApi.status, 403);
    assert.equal(overApi.body.error.code, 'key_ip_not_allowed');

    const created = await createSecretKey(mailroom.running.store.db, owner.accountId, 'soon', { expiresAt: new Date(Date.now() + 60_000).toISOString() });
    assert.equal((await login(created.secret)).reply, '235 2.7.0 Authentication successful');
    // Time passes (the row says so, as it would a minute from now).
    const past = Date.now() - 1000;
    await mailroom.running.store.db.updateTable('secret_keys').set({ expires_at: past }).where('id', '=', created.id).execute();
    assert.equal((await login(created.secret)).reply, formatReply(Replies.keyExpired(past)));
    assert.equal((await apiSend(created.secret, 'a@first.example', 'r@rcpt.example')).body.error.code, 'expired_key');
    const failures = await mailroom.running.store.db.selectFrom('auth_failures').select('key').execute();
    assert.deepEqual(failures, [], 'the right key out of scope is not a guess');
  });

  it('creates scoped keys over the API, refusing senders outside the account and naming each malformed field', async () => {
    const client = api(owner.secret);
    const made = await client.post('/api/v1/keys', { name: 'printer', from: ['Printer@First.example', SECOND], dailyLimit: 50, channel: 'smtp', ipRanges: ['192.0.2.7/24'], expiresAt: '2099-01-01' });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.deepEqual(made.body.scope, { from: ['printer@first.example', SECOND], dailyLimit: 50, channel: 'smtp', ipRanges: ['192.0.2.0/24'], expiresAt: '2099-01-01T00:00:00.000Z' });
    const bad: Array<[object, string, string]> = [
      [{ from: ['boss@elsewhere.example'] }, 'from_outside_account', 'from'],
      [{ from: ['not an address'] }, 'invalid_from_scope', 'from'],
      [{ ipRanges: ['10.0.0.0/8', '1.2.3.0/33'] }, 'invalid_ip_range', 'ipRanges'],
      [{ dailyLimit: 5000 }, 'invalid_daily_limit', 'dailyLimit'],
      [{ expiresAt: '2001-01-01' }, 'invalid_expiry', 'expiresAt'],
      [{ expiresAt: 'someday' }, 'invalid_expiry', 'expiresAt'],
    ];
    const before = (await client.get('/api/v1/keys?limit=100')).body.items.length;
    for (const [scope, code, field] of bad) {
      const answer = await client.post('/api/v1/keys', { name: 'bad', ...scope });
      assert.equal(answer.status, 400, JSON.stringify(scope));
      assert.equal(answer.body.error.code, code, JSON.stringify(answer.body));
      assert.equal(answer.body.error.field, field);
    }
    assert.match((await client.post('/api/v1/keys', { name: 'bad', ipRanges: ['10.0.0.0/8', '1.2.3.0/33'] })).body.error.message, /ipRanges\[1\]: "1\.2\.3\.0\/33"/);
    assert.equal((await client.get('/api/v1/keys?limit=100')).body.items.length, before, 'nothing was created');
  });

  it("lists each key's scope, emails in the last 24 hours and last use (time and address)", async () => {
    const created = await createSecretKey(mailroom.running.store.db, owner.accountId, 'counted', { from: [SECOND] });
    const { client } = await login(created.secret, '127.0.0.3');
    assert.match(await sendMessage(client, { from: `x@${SECOND}`, to: ['a@rcpt.example', 'b@rcpt.example'] }, message(`x@${SECOND}`, 'a@rcpt.example')), QUEUED);
    // The last use is written in bulk about once a second (accounts/key-use-log.ts).
    const items = await waitFor('the key\'s last use to be written', async () => {
      const listed = (await api(owner.secret).get('/api/v1/keys?limit=100')).body.items as Array<Record<string, any>>;
      return listed.find((k) => k.id === created.id)?.lastUsedIp ? listed : null;
    });
    const item = items.find((k) => k.id === created.id)!;
    assert.equal(item.sentLast24h, 2);
    assert.equal(item.lastUsedIp, '127.0.0.3');
    assert.ok(Date.now() - Date.parse(item.lastUsedAt) < 60_000);
    assert.deepEqual(item.scope, { from: [SECOND], dailyLimit: null, channel: 'full', ipRanges: null, expiresAt: null });
    const first = items.find((k) => k.name === 'default')!;
    assert.deepEqual(first.scope, { from: null, dailyLimit: null, channel: 'full', ipRanges: null, expiresAt: null }, 'a key from before scopes keeps full scope');
    assert.ok(first.sentLast24h > 0);
  });
});
