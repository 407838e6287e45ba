import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { createAccount } from '../../src/accounts/accounts.ts';
import { createSession, deleteSession, resolveSession } from '../../src/accounts/sessions.ts';
import { apiClient } from './client.ts';

describeEachStore('API authentication, account, keys and admin', (engine) => {
  let m: TestMailroom;
  let port: number;

  before(async () => {
    m = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp,http' });
    port = m.port('http');
  });
  after(async () => { await m.stop(); });

  test('without a valid key the API answers 401 in the error shape', async () => {
    const anonymous = apiClient(port, null);
    const missing = await anonymous.get('/api/v1/account');
    assert.equal(missing.status, 401);
    assert.equal(missing.body.error.code, 'unauthenticated');
    assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer/);
    const wrong = await apiClient(port, 'mr_not-a-real-key').get('/api/v1/domains');
    assert.deepEqual([wrong.status, wrong.body.error.code], [401, 'invalid_key']);
    const malformed = await anonymous.call('GET', '/api/v1/account', { headers: { authorization: 'Basic abc' } });
    assert.deepEqual([malformed.status, malformed.body.error.code], [401, 'unauthenticated']);
    // Refused before the body is read or validated.
    const unauthenticatedPost = await anonymous.post('/api/v1/messages', { nonsense: true });
    assert.equal(unauthenticatedPost.status, 401);
  });

  test('GET /account shows the SMTP settings, the limit and what was sent', async () => {
    const sender = await m.createSender({ dailyLimit: 500 });
    const api = apiClient(port, sender.secret);
    await api.post('/api/v1/messages', { from: sender.email, to: ['a@example.com', 'b@example.com'], text: 't' });
    const response = await api.get('/api/v1/account');
    assert.equal(response.status, 200);
    assert.equal(response.body.email, sender.email);
    assert.equal(response.body.dailyLimit, 500);
    assert.equal(response.body.sentLast24h, 2);
    assert.ok(Date.parse(response.body.resetsAt) > Date.now() + 23 * 3600_000);
    assert.equal(response.body.isAdmin, false);
    const smtp = response.body.smtp;
    assert.equal(smtp.host, 'mailroom.test');
    assert.equal(smtp.username, sender.email);
    assert.deepEqual(smtp.ports, [
      { port: m.port('submission'), connections: ['STARTTLS', 'unsecured'] },
      { port: m.port('submissions'), connections: ['SSL/TLS'] },
    ]);
    assert.equal(smtp.certificate.selfSigned, true);
  });

  test('secret keys: create (secret shown once), list, revoke; a revoked key stops working at once', async () => {
    const sender = await m.createSender();
    const api = apiClient(port, sender.secret);
    const created = await api.post('/api/v1/keys', { name: 'billing app' });
    assert.equal(created.status, 201);
    assert.deepEqual(Object.keys(created.body).sort(), ['createdAt', 'id', 'name', 'scope', 'secret']);
    assert.match(created.body.secret, /^mr_/);
    const newKey = apiClient(port, created.body.secret);
    assert.equal((await newKey.get('/api/v1/account')).status, 200);

    const list = await api.get('/api/v1/keys');
    assert.deepEqual(list.body.items.map((k: any) => k.name), ['default', 'billing app']);
    assert.ok(list.body.items.every((k: any) => !('secret' in k) && k.hint.startsWith('…')));

    assert.equal((await api.del(`/api/v1/keys/${created.body.id}`)).status, 204);
    const revoked = await newKey.get('/api/v1/account');
    assert.deepEqual([revoked.status, revoked.body.error.code], [401, 'revoked_key']);
    const listed = await api.get('/api/v1/keys');
    assert.ok(listed.body.items.find((k: any) => k.id === created.body.id).revokedAt);

    const other = await m.createSender();
    const foreign = await apiClient(port, other.secret).del(`/api/v1/keys/${listed.body.items[0].id}`);
    assert.deepEqual([foreign.status, foreign.body.error.code], [404, 'unknown_key'], "another account's key does not exist for you");
    assert.equal((await api.get('/api/v1/account')).status, 200, 'and it still works');

    const blank = await api.post('/api/v1/keys', { name: '' });
    assert.deepEqual([blank.status, blank.body.error.field], [400, 'name']);
  });

  test('the dashboard signs in with email and password, is served by the cookie, and signs out', async () => {
    await createAccount(m.running.store, { email: 'dash@example.com', password: 'correct horse', dailyLimit: 10 });
    const anonymous = apiClient(port, null);
    const wrong = await anonymous.post('/api/v1/session', { email: 'dash@example.com', password: 'wrong password' });
    assert.deepEqual([wrong.status, wrong.body.error.code], [401, 'invalid_login']);
    const login = await anonymous.post('/api/v1/session', { email: 'Dash@Example.com', password: 'correct horse' });
    assert.equal(login.status, 200);
    assert.equal(login.body.account.email, 'dash@example.com');
    const setCookie = login.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /^mailroom_session=[A-Za-z0-9_-]{20,}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Strict/);
    const cookie = setCookie.split(';')[0];

    const account = await anonymous.call('GET', '/api/v1/account', { headers: { cookie } });
    assert.deepEqual([account.status, account.body.email], [200, 'dash@example.com']);
    const crossSite = await anonymous.call('POST', '/api/v1/keys', { body: { name: 'x' }, headers: { cookie, origin: 'https://evil.example' } });
    assert.deepEqual([crossSite.status, crossSite.body.error.code], [403, 'cross_origin']);
    const sameSite = await anonymous.call('POST', '/api/v1/keys', { body: { name: 'x' }, headers: { cookie, origin: `http://127.0.0.1:${port}` } });
    assert.equal(sameSite.status, 201);

    const logout = await anonymous.call('DELETE', '/api/v1/session', { headers: { cookie } });
    assert.equal(logout.status, 204);
    assert.match(logout.headers.get('set-cookie') ?? '', /^mailroom_session=; Path=\/; Max-Age=0/);
    assert.equal((await anonymous.call('GET', '/api/v1/account', { headers: { cookie } })).status, 401);
  });

  test('sessions: created, resolved, expired and deleted', async () => {
    const { account } = await createAccount(m.running.store, { email: 'sess@example.com', dailyLimit: 10 });
    const session = await createSession(m.running.store, account.id);
    assert.deepEqual(await resolveSession(m.running.store, session.token), { accountId: account.id });
    assert.equal(await resolveSession(m.running.store, session.token, session.expiresAt), null, 'expired at expiresAt');
    assert.equal(await resolveSession(m.running.store, 'forged'), null);
    const stored = await m.running.store.db.selectFrom('web_sessions').select('token_hash').execute();
    assert.ok(stored.every((row) => row.token_hash !== session.token), 'only the hash is stored');
    await deleteSession(m.running.store, session.token);
    assert.equal(await resolveSession(m.running.store, session.token), null);
  });

  test('repeated failed sign-ins are throttled with 429 and Retry-After', async () => {
    const anonymous = apiClient(port, null);
    let last = await anonymous.post('/api/v1/session', { email: 'victim@example.com', password: 'guess-0' });
    for (let i = 1; i < 10; i++) last = await anonymous.post('/api/v1/session', { email: 'victim@example.com', password: `guess-${i}` });
    assert.equal(last.status, 429);
    assert.ok(Number(last.headers.get('retry-after')) > 0);
    const locked = await anonymous.post('/api/v1/session', { email: 'victim@example.com', password: 'guess-10' });
    assert.deepEqual([locked.status, locked.body.error.code], [429, 'too_many_failures']);
  });

  test('administrators manage accounts; others get 403', async () => {
    const { key: adminKey } = await createAccount(m.running.store, { email: 'root@example.com', dailyLimit: 10, isAdmin: true });
    const admin = apiClient(port, adminKey.secret);
    const created = await admin.post('/api/v1/admin/accounts', { email: 'new-user@example.com', dailyLimit: 250 });
    assert.equal(created.status, 201);
    assert.deepEqual(Object.keys(created.body).sort(), ['account', 'key', 'password']);
    assert.deepEqual(Object.keys(created.body.account).sort(), ['dailyLimit', 'email', 'id']);
    assert.deepEqual(Object.keys(created.body.key).sort(), ['id', 'name', 'secret']);
    const user = apiClient(port, created.body.key.secret);
    assert.equal((await user.get('/api/v1/account')).body.dailyLimit, 250);

    const duplicate = await admin.post('/api/v1/admin/accounts', { email: 'new-user@example.com', dailyLimit: 1 });
    assert.deepEqual([duplicate.status, duplicate.body.error.code, duplicate.body.error.field], [409, 'account_exists', 'email']);
    const invalid = await admin.post('/api/v1/admin/accounts', { email: 'not-an-email', dailyLimit: 1 });
    assert.deepEqual([invalid.status, invalid.body.error.field], [400, 'email']);
    const zero = await admin.post('/api/v1/admin/accounts', { email: 'z@example.com', dailyLimit: 0 });
    assert.deepEqual([zero.status, zero.body.error.field], [400, 'dailyLimit']);

    const patched = await admin.call('PATCH', `/api/v1/admin/accounts/${created.body.account.id}`, { body: { dailyLimit: 999 } });
    assert.deepEqual([patched.status, patched.body.dailyLimit], [200, 999]);
    assert.equal((await user.get('/api/v1/account')).body.dailyLimit, 999);
    const unknown = await admin.call('PATCH', '/api/v1/admin/accounts/nobody', { body: { dailyLimit: 5 } });
    assert.equal(unknown.status, 404);

    const firstPage = await admin.get('/api/v1/admin/accounts?limit=2');
    assert.equal(firstPage.body.items.length, 2);
    const secondPage = await admin.get(`/api/v1/admin/accounts?limit=100&cursor=${firstPage.body.next}`);
    const emails = [...firstPage.body.items, ...secondPage.body.items].map((a: any) => a.email);
    assert.ok(emails.includes('new-user@example.com') && emails.includes('root@example.com'));
    assert.deepEqual(emails, [...emails].sort());

    for (const [method, path] of [['GET', '/api/v1/admin/accounts'], ['POST', '/api/v1/admin/accounts'], ['PATCH', `/api/v1/admin/accounts/${created.body.account.id}`]]) {
      const refused = await user.call(method, path, { body: method === 'GET' ? undefined : { email: 'x@example.com', dailyLimit: 5 } });
      assert.deepEqual([refused.status, refused.body.error.code], [403, 'forbidden'], `${method} ${path}`);
    }
  });

  test('unknown API paths are 404 and non-JSON bodies 415, in the error shape', async () => {
    const sender = await m.createSender();
    const api = apiClient(port, sender.secret);
    const missing = await api.get('/api/v1/nothing-here');
    assert.deepEqual([missing.status, missing.body.error.code], [404, 'not_found']);
    const form = await api.call('POST', '/api/v1/keys', { raw: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.deepEqual([form.status, form.body.error.code], [415, 'unsupported_media_type']);
  });
});
