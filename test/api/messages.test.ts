import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { addDomain } from '../../src/domains/domains.ts';
import { suppress } from '../../src/suppressions/suppressions.ts';
import { apiClient, type ApiClient } from './client.ts';

describeEachStore('API messages', (engine) => {
  let m: TestMailroom;
  let api: ApiClient;
  let sender: { email: string; secret: string; accountId: string; domain: string };

  before(async () => {
    // No delivery role: accepted mail stays queued, so statuses are what the tests wrote.
    m = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp,http', MAILROOM_MAX_MESSAGE_SIZE: '64KB', MAILROOM_MAX_RECIPIENTS: '5' });
    sender = await m.createSender();
    api = apiClient(m.port('http'), sender.secret);
  });
  after(async () => { await m.stop(); });

  const storedRaw = async (id: string) => {
    const row = await m.running.store.db.selectFrom('messages').select(['raw', 'source', 'mail_from', 'tags']).where('id', '=', id).executeTakeFirstOrThrow();
    return { ...row, text: Buffer.from(row.raw).toString('utf8') };
  };

  test('a JSON message is queued durably and answers 202 with its id', async () => {
    const response = await api.post('/api/v1/messages', {
      from: `Ann Example <${sender.email}>`, to: 'bob@example.com', cc: ['Carol <carol@example.com>'], bcc: 'dave@example.com',
      replyTo: 'replies@example.com', subject: 'Grüße', text: 'line one\nline two', html: '<p>hi</p>', headers: { 'X-Campaign': 'spring' },
      attachments: [{ filename: 'a.txt', content: Buffer.from('attached').toString('base64'), contentType: 'text/plain' }], tags: ['welcome'],
    });
    assert.equal(response.status, 202);
    assert.match(response.body.id, /^[0-9a-z]+$/);
    const stored = await storedRaw(response.body.id);
    assert.equal(stored.source, 'api');
    assert.equal(stored.mail_from, sender.email);
    assert.deepEqual(JSON.parse(stored.tags), ['welcome']);
    assert.match(stored.text, /^Received: from \[[^\]]+\]\r\n\tby mailroom\.test \(Mailroom HTTP API\) with HTTP id /);
    assert.match(stored.text, new RegExp(`\r\nMessage-ID: <${response.body.id}@mailroom\\.test>\r\n`));
    assert.match(stored.text, /\r\nDate: /);
    assert.match(stored.text, /\r\nX-Campaign: spring\r\n/);
    assert.match(stored.text, /\r\nReply-To: replies@example\.com\r\n/);
    assert.doesNotMatch(stored.text, /^Bcc:/im, 'Bcc never reaches the headers');
    assert.doesNotMatch(stored.text, /[^\r]\n/, 'every line ends in CRLF');
    const deliveries = await m.running.store.db.selectFrom('deliveries').select(['recipient', 'status']).where('message_id', '=', response.body.id).orderBy('recipient').execute();
    assert.deepEqual(deliveries.map((d) => ({ ...d })), [
      { recipient: 'bob@example.com', status: 'queued' }, { recipient: 'carol@example.com', status: 'queued' }, { recipient: 'dave@example.com', status: 'queued' },
    ]);
  });

  test('to, cc and bcc accept a string or an array', async () => {
    const asArray = await api.post('/api/v1/messages', { from: sender.email, to: ['a@example.com', 'b@example.com'], subject: 's', text: 't' });
    assert.equal(asArray.status, 202);
    const asList = await api.post('/api/v1/messages', { from: sender.email, to: 'a@example.com, B <b@example.com>', subject: 's', text: 't' });
    assert.equal(asList.status, 202);
    const count = await m.running.store.db.selectFrom('deliveries').select('id').where('message_id', '=', asList.body.id).execute();
    assert.equal(count.length, 2);
  });

  test('a raw MIME message is accepted; its Bcc header is removed and its LF line ends become CRLF', async () => {
    const mime = `From: ${sender.email}\nTo: x@example.com\nBcc: hidden@example.com\nSubject: raw one\n\nbody\n`;
    const response = await api.post('/api/v1/messages', { raw: Buffer.from(mime).toString('base64') });
    assert.equal(response.status, 202);
    const stored = await storedRaw(response.body.id);
    assert.doesNotMatch(stored.text, /hidden@example\.com/);
    assert.match(stored.text, /\r\nSubject: raw one\r\n\r\nbody\r\n$/);
    const recipients = await m.running.store.db.selectFrom('deliveries').select('recipient').where('message_id', '=', response.body.id).orderBy('recipient').execute();
    assert.deepEqual(recipients.map((r) => r.recipient), ['hidden@example.com', 'x@example.com']);
  });

  test('CR or LF in any header value is refused naming the field', async () => {
    const base = { from: sender.email, to: 'bob@example.com', text: 't' };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...base, subject: 'hi\r\nBcc: victim@example.com' }, 'subject'],
      [{ ...base, subject: 'hi\nX-Evil: 1' }, 'subject'],
      [{ ...base, headers: { 'X-Note': 'a\r\nBcc: victim@example.com' } }, 'headers.X-Note'],
      [{ ...base, from: `Ann\r\nBcc: victim@example.com <${sender.email}>` }, 'from'],
      [{ ...base, to: ['ok@example.com', 'Bob\n <bob@example.com>'] }, 'to[1]'],
      [{ ...base, attachments: [{ filename: 'a\r\n.txt', content: '' }] }, 'attachments[0].filename'],
    ];
    for (const [body, field] of cases) {
      const response = await api.post('/api/v1/messages', body);
      assert.equal(response.status, 400, field);
      assert.equal(response.body.error.code, 'header_injection', field);
      assert.equal(response.body.error.field, field);
    }
    const reserved = await api.post('/api/v1/messages', { ...base, headers: { From: 'someone@elsewhere.example' } });
    assert.equal(reserved.status, 400);
    assert.deepEqual(reserved.body.error.field, 'headers.From');
  });

  test('schema errors are 400 naming the field', async () => {
    const unknown = await api.post('/api/v1/messages', { from: sender.email, to: 'b@example.com', body: 'typo' });
    assert.deepEqual([unknown.status, unknown.body.error.field], [400, 'body']);
    const wrongType = await api.post('/api/v1/messages', { from: sender.email, to: 'b@example.com', attachments: [{ filename: 'a', content: 5 }] });
    assert.equal(wrongType.status, 400);
    assert.equal(wrongType.body.error.field, 'attachments[0].content');
    const missing = await api.post('/api/v1/messages', { from: sender.email, to: 'b@example.com', attachments: [{ filename: 'a' }] });
    assert.deepEqual([missing.status, missing.body.error.field], [400, 'attachments[0].content']);
    const noRecipient = await api.post('/api/v1/messages', { from: sender.email, subject: 's' });
    assert.deepEqual([noRecipient.status, noRecipient.body.error.field], [400, 'to']);
    const badAddress = await api.post('/api/v1/messages', { from: sender.email, to: 'not an address' });
    assert.deepEqual([badAddress.status, badAddress.body.error.code, badAddress.body.error.field], [400, 'invalid_address', 'to']);
    const badJson = await api.call('POST', '/api/v1/messages', { raw: '{"from":', headers: { 'content-type': 'application/json' } });
    assert.deepEqual([badJson.status, badJson.body.error.code], [400, 'invalid_json']);
    const badBase64 = await api.post('/api/v1/messages', { raw: 'not base64!' });
    assert.deepEqual([badBase64.status, badBase64.body.error.field], [400, 'raw']);
    const mixed = await api.post('/api/v1/messages', { raw: Buffer.from('From: a@b.example\r\n\r\nx').toString('base64'), subject: 'x' });
    assert.deepEqual([mixed.status, mixed.body.error.field], [400, 'subject']);
  });

  test('the sender must be on a verified domain of the account, as over SMTP', async () => {
    const foreign = await api.post('/api/v1/messages', { from: 'me@elsewhere.example', to: 'b@example.com', text: 't' });
    assert.deepEqual([foreign.status, foreign.body.error.code, foreign.body.error.field], [403, 'sender_domain_not_added', 'from']);
    await addDomain(m.running.store, sender.accountId, 'unverified.example', 'mailroom.test');
    const unverified = await api.post('/api/v1/messages', { from: 'me@unverified.example', to: 'b@example.com', text: 't' });
    assert.deepEqual([unverified.status, unverified.body.error.code], [403, 'sender_domain_not_verified']);
    assert.match(unverified.body.error.message, /unverified\.example/);
    const rawForeignFrom = await api.post('/api/v1/messages', {
      from: sender.email, to: 'b@example.com', raw: Buffer.from('From: boss@elsewhere.example\r\nSubject: x\r\n\r\nx\r\n').toString('base64'),
    });
    assert.deepEqual([rawForeignFrom.status, rawForeignFrom.body.error.code, rawForeignFrom.body.error.field], [403, 'from_domain_not_allowed', 'raw']);
  });

  test('a suppressed recipient is recorded as suppressed and skipped; the others are sent', async () => {
    await suppress(m.running.store.db, sender.accountId, 'gone@example.com', 'hard-bounce', null);
    const response = await api.post('/api/v1/messages', { from: sender.email, to: 'ok@example.com', cc: ['x@example.com', 'Gone@example.com'], text: 't' });
    assert.equal(response.status, 202);
    const shown = await api.get(`/api/v1/messages/${response.body.id}`);
    const statuses = Object.fromEntries(shown.body.recipients.map((r: { address: string; status: string }) => [r.address.toLowerCase(), r.status]));
    assert.equal(statuses['gone@example.com'], 'suppressed');
    assert.notEqual(statuses['ok@example.com'], 'suppressed');
    assert.notEqual(statuses['x@example.com'], 'suppressed');
    const suppressedOnly = await api.get('/api/v1/messages?status=suppressed');
    assert.ok(suppressedOnly.body.items.some((item: { id: string }) => item.id === response.body.id));
  });

  test('a message whose every recipient is suppressed is refused naming the field', async () => {
    await suppress(m.running.store.db, sender.accountId, 'gone2@example.com', 'hard-bounce', null);
    const response = await api.post('/api/v1/messages', { from: sender.email, to: 'Gone2@example.com', text: 't' });
    assert.deepEqual([response.status, response.body.error.code, response.body.error.field], [400, 'recipient_suppressed', 'to']);
  });

  test('more recipients than MAILROOM_MAX_RECIPIENTS is a 400', async () => {
    const to = Array.from({ length: 6 }, (_, i) => `r${i}@example.com`);
    const response = await api.post('/api/v1/messages', { from: sender.email, to, text: 't' });
    assert.deepEqual([response.status, response.body.error.code], [400, 'too_many_recipients']);
  });

  test('an oversized message is 413, whether the body or the decoded message is too big', async () => {
    const bigMessage = `From: ${sender.email}\r\nTo: b@example.com\r\n\r\n${'x'.repeat(70 * 1024)}\r\n`;
    const decoded = await api.post('/api/v1/messages', { raw: Buffer.from(bigMessage).toString('base64') });
    assert.deepEqual([decoded.status, decoded.body.error.code, decoded.body.error.field], [413, 'message_too_big', 'raw']);
    const body = await api.post('/api/v1/messages', { from: sender.email, to: 'b@example.com', text: 'y'.repeat(400 * 1024) });
    assert.deepEqual([body.status, body.body.error.code], [413, 'body_too_large']);
  });

  test('raw MIME with a NUL byte or a line over 998 octets is a 400 naming it, and nothing is queued; composed text with long lines is encoded', async () => {
    const before = (await m.running.store.db.selectFrom('messages').select('id').where('account_id', '=', sender.accountId).execute()).length;
    const head = `From: ${sender.email}\r\nTo: b@example.com\r\nSubject: limits\r\n`;
    const cases: Array<[string, string, RegExp]> = [
      [`${head}\r\nnul\0here\r\n`, 'nul_byte', /NUL byte \(line 5\)/],
      [`${head}X-Long: ${'h'.repeat(1000)}\r\n\r\nbody\r\n`, 'header_line_too_long', /Header line 4 .* 1008 octets/],
      [`${head}\r\n${'b'.repeat(999)}\r\n`, 'body_line_too_long', /Body line 5 .* 999 octets/],
    ];
    for (const [mime, code, words] of cases) {
      const response = await api.post('/api/v1/messages', { raw: Buffer.from(mime).toString('base64') });
      assert.deepEqual([response.status, response.body.error.code, response.body.error.field], [400, code, 'raw']);
      assert.match(response.body.error.message, words);
    }
    assert.equal((await m.running.store.db.selectFrom('messages').select('id').where('account_id', '=', sender.accountId).execute()).length, before);

    const composed = await api.post('/api/v1/messages', { from: sender.email, to: 'b@example.com', subject: 'long', text: `${'word '.repeat(1000)}end`, html: `<p>${'x'.repeat(5000)}</p>` });
    assert.equal(composed.status, 202);
    const stored = await storedRaw(composed.body.id);
    const longest = Math.max(...stored.text.split('\r\n').map((line) => line.length));
    assert.ok(longest <= 998, `the composed message has a line of ${longest} octets`);
  });

  test('the daily limit answers 429 with Retry-After', async () => {
    const limited = await m.createSender({ dailyLimit: 2 });
    const client = apiClient(m.port('http'), limited.secret);
    assert.equal((await client.post('/api/v1/messages', { from: limited.email, to: ['a@example.com', 'b@example.com'], text: 't' })).status, 202);
    const refused = await client.post('/api/v1/messages', { from: limited.email, to: 'c@example.com', text: 't' });
    assert.equal(refused.status, 429);
    assert.equal(refused.body.error.code, 'daily_limit_reached');
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter > 23 * 3600 && retryAfter <= 24 * 3600 + 60, `Retry-After ${retryAfter}`);
  });

  test('a retried POST with the same Idempotency-Key answers the first id and queues nothing new', async () => {
    const body = { from: sender.email, to: 'once@example.com', text: 't' };
    const first = await api.post('/api/v1/messages', body, { 'idempotency-key': 'order-42' });
    const second = await api.post('/api/v1/messages', body, { 'idempotency-key': 'order-42' });
    assert.equal(first.status, 202);
    assert.equal(second.status, 202);
    assert.equal(second.body.id, first.body.id);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    const rows = await m.running.store.db.selectFrom('deliveries').select('id').where('recipient', '=', 'once@example.com').execute();
    assert.equal(rows.length, 1);
    const other = await api.post('/api/v1/messages', body, { 'idempotency-key': 'order-43' });
    assert.notEqual(other.body.id, first.body.id);
  });

  test('GET /messages/:id shows each recipient and every attempt with the remote reply', async () => {
    const sent = await api.post('/api/v1/messages', { from: sender.email, to: ['r1@example.com', 'r2@example.com'], subject: 'Status check', text: 't' });
    const deliveries = await m.running.store.db.selectFrom('deliveries').select(['id', 'recipient']).where('message_id', '=', sent.body.id).execute();
    const r1 = deliveries.find((d) => d.recipient === 'r1@example.com')!;
    // What the delivery engine writes after two attempts.
    await m.running.store.db.updateTable('deliveries').set({ status: 'delivered' }).where('id', '=', r1.id).execute();
    await m.running.store.db.insertInto('attempts').values([
      { delivery_id: r1.id, message_id: sent.body.id, at: Date.now() - 1000, outcome: 'deferred', mx: 'mx1.example.com', ip: '192.0.2.1', tls: null, reply: '451 4.7.1 Try again later', duration_ms: 120 },
      { delivery_id: r1.id, message_id: sent.body.id, at: Date.now(), outcome: 'delivered', mx: 'mx1.example.com', ip: '192.0.2.1', tls: '{"used":true,"version":"TLSv1.3","authorized":false}', reply: '250 2.0.0 OK', duration_ms: 80 },
    ]).execute();
    const response = await api.get(`/api/v1/messages/${sent.body.id}`);
    assert.equal(response.status, 200);
    assert.deepEqual(Object.keys(response.body).sort(), ['createdAt', 'from', 'headers', 'id', 'recipients', 'subject', 'tags']);
    assert.ok(response.body.headers.some((h: { name: string; value: string }) => h.name === 'subject' && h.value === 'Status check'));
    assert.equal(response.body.from, sender.email);
    assert.equal(response.body.subject, 'Status check');
    const byAddress = new Map(response.body.recipients.map((r: any) => [r.address, r]));
    const first: any = byAddress.get('r1@example.com');
    assert.equal(first.status, 'delivered');
    assert.deepEqual(first.attempts.map((a: any) => [a.mx, a.ip, a.reply, a.durationMs]), [
      ['mx1.example.com', '192.0.2.1', '451 4.7.1 Try again later', 120], ['mx1.example.com', '192.0.2.1', '250 2.0.0 OK', 80],
    ]);
    assert.equal(first.attempts[0].tls, null);
    assert.deepEqual(first.attempts[1].tls, { used: true, version: 'TLSv1.3', authorized: false });
    assert.ok(!Number.isNaN(Date.parse(first.attempts[1].at)));
    assert.deepEqual((byAddress.get('r2@example.com') as any).attempts, []);
    assert.equal((byAddress.get('r2@example.com') as any).status, 'queued');

    const unknown = await api.get('/api/v1/messages/nosuchmessage');
    assert.deepEqual([unknown.status, unknown.body.error.code], [404, 'unknown_message']);
    const other = await m.createSender();
    const foreign = await apiClient(m.port('http'), other.secret).get(`/api/v1/messages/${sent.body.id}`);
    assert.equal(foreign.status, 404, "another account's message does not exist for you");
  });

  test('GET /messages filters by recipient, status, tag and sender, with a next cursor', async () => {
    const other = await m.createSender();
    const client = apiClient(m.port('http'), other.secret);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await client.post('/api/v1/messages', { from: other.email, to: `list${i}@example.com`, text: 't', tags: i % 2 === 0 ? ['even'] : ['odd_tag'] });
      ids.push(response.body.id);
    }
    const firstPage = await client.get('/api/v1/messages?limit=2');
    assert.deepEqual(firstPage.body.items.map((m: any) => m.id), [ids[4], ids[3]]);
    assert.ok(firstPage.body.next);
    const secondPage = await client.get(`/api/v1/messages?limit=2&cursor=${firstPage.body.next}`);
    assert.deepEqual(secondPage.body.items.map((m: any) => m.id), [ids[2], ids[1]]);
    const lastPage = await client.get(`/api/v1/messages?limit=2&cursor=${secondPage.body.next}`);
    assert.deepEqual(lastPage.body.items.map((m: any) => m.id), [ids[0]]);
    assert.equal(lastPage.body.next, undefined);

    assert.deepEqual((await client.get('/api/v1/messages?recipient=LIST3@example.com')).body.items.map((m: any) => m.id), [ids[3]]);
    assert.deepEqual((await client.get('/api/v1/messages?tag=even')).body.items.map((m: any) => m.id), [ids[4], ids[2], ids[0]]);
    // "_" is a LIKE wildcard; it must match only itself.
    assert.deepEqual((await client.get('/api/v1/messages?tag=odd_tag')).body.items.length, 2);
    assert.deepEqual((await client.get('/api/v1/messages?tag=oddxtag')).body.items.length, 0);
    assert.equal((await client.get(`/api/v1/messages?from=${other.email}`)).body.items.length, 5);
    assert.equal((await client.get('/api/v1/messages?from=nobody@example.com')).body.items.length, 0);
    await m.running.store.db.updateTable('deliveries').set({ status: 'bounced' }).where('message_id', '=', ids[1]).execute();
    const bounced = await client.get('/api/v1/messages?status=bounced');
    assert.deepEqual(bounced.body.items.map((m: any) => [m.id, m.recipients]), [[ids[1], [{ address: 'list1@example.com', status: 'bounced' }]]]);
    const badStatus = await client.get('/api/v1/messages?status=lost');
    assert.deepEqual([badStatus.status, badStatus.body.error.field], [400, 'status']);
    const badCursor = await client.get('/api/v1/messages?cursor=%%%');
    assert.deepEqual([badCursor.status, badCursor.body.error.field], [400, 'cursor']);
  });
});
