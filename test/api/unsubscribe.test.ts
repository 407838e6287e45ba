/**
 * One-click unsubscribe (RFC 8058): a send that asks for it carries
 * List-Unsubscribe and List-Unsubscribe-Post with a signed link for its one
 * recipient, covered by the DKIM signature; the link's POST suppresses the
 * address (reason `unsubscribe`) and records an event; a GET or an altered
 * link changes nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { apiClient, type ApiClient } from './client.ts';

describeEachStore('one-click unsubscribe', (engine) => {
  let m: TestMailroom;
  let api: ApiClient;
  let sender: { email: string; secret: string; accountId: string; domain: string };

  before(async () => {
    m = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp,http', MAILROOM_PUBLIC_URL: 'https://mail.example.net/' });
    sender = await m.createSender();
    api = apiClient(m.port('http'), sender.secret);
  });
  after(async () => { await m.stop(); });

  const storedText = async (id: string) => Buffer.from((await m.running.store.db.selectFrom('messages').select('raw').where('id', '=', id).executeTakeFirstOrThrow()).raw).toString('utf8');
  // Header lines are folded when long: unfold before reading one.
  const linkIn = (raw: string) => /\r\nList-Unsubscribe: +<https:\/\/mail\.example\.net\/unsubscribe\/([^>]+)>\r\n/.exec(raw.replace(/\r\n[ \t]+/g, ' '))?.[1];
  const local = (token: string) => `http://127.0.0.1:${m.port('http')}/unsubscribe/${token}`;
  const suppression = () => api.get('/api/v1/suppressions/ann@example.com');

  test('the headers name a signed link; GET only shows a button; POST suppresses and records an event', async () => {
    const sent = await api.post('/api/v1/messages', { from: sender.email, to: 'Ann <ann@example.com>', subject: 'news', text: 't', unsubscribe: true });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const raw = await storedText(sent.body.id);
    assert.match(raw, /\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n/);
    const token = linkIn(raw);
    assert.ok(token, raw.slice(0, 800));

    const page = await fetch(local(token));
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<form method="post">/);
    assert.equal((await suppression()).status, 404, 'a GET unsubscribes nobody');

    const altered = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
    const forged = await fetch(local(altered), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    assert.equal(forged.status, 404);
    assert.equal((await suppression()).status, 404);

    const click = await fetch(local(token), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    assert.equal(click.status, 200);
    const suppressed = await suppression();
    assert.equal(suppressed.status, 200);
    assert.equal(suppressed.body.reason, 'unsubscribe');
    const again = await fetch(local(token), { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--x--\r\n' });
    assert.equal(again.status, 200, 'a second click is fine');
    const events = await m.running.store.db.selectFrom('message_events').select(['type', 'recipient']).where('message_id', '=', sent.body.id).where('type', '=', 'unsubscribed').execute();
    assert.deepEqual(events.map((e) => ({ ...e })), [{ type: 'unsubscribed', recipient: 'ann@example.com' }]);

    const next = await api.post('/api/v1/messages', { from: sender.email, to: 'ann@example.com', subject: 'more news', text: 't' });
    assert.equal(next.status, 400, 'the next mail to her is refused');
    assert.equal(next.body.error.code, 'recipient_suppressed');
  });

  test('the DKIM signature covers both headers', async () => {
    const key = await api.post('/api/v1/keys', { name: 'signing-check', sandbox: true });
    const sandboxed = apiClient(m.port('http'), key.body.secret);
    const sent = await sandboxed.post('/api/v1/messages', { from: sender.email, to: 'dkim@example.com', subject: 's', text: 't', unsubscribe: true });
    const row = await m.running.store.db.selectFrom('messages').select('dkim_signature').where('id', '=', sent.body.id).executeTakeFirstOrThrow();
    const signedHeaders = /\bh=([^;]+)/.exec(row.dkim_signature!.replace(/\s+/g, ''))![1].toLowerCase().split(':');
    assert.ok(signedHeaders.includes('list-unsubscribe') && signedHeaders.includes('list-unsubscribe-post'), signedHeaders.join(':'));
  });

  test('asked for with several recipients, with raw, or next to its own headers: a 400 naming the field', async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ to: ['a@example.com', 'b@example.com'], subject: 's', text: 't' }, 'unsubscribe_needs_one_recipient', 'unsubscribe'],
      [{ to: 'a@example.com', raw: Buffer.from(`From: ${sender.email}\r\n\r\nx`).toString('base64') }, 'unsubscribe_with_raw', 'unsubscribe'],
      [{ to: 'a@example.com', subject: 's', text: 't', headers: { 'List-Unsubscribe': '<mailto:x@example.com>' } }, 'unsubscribe_header_given', 'headers.List-Unsubscribe'],
    ];
    for (const [body, code, field] of cases) {
      const response = await api.post('/api/v1/messages', { from: sender.email, unsubscribe: true, ...body });
      assert.equal(response.status, 400, code);
      assert.equal(response.body.error.code, code);
      assert.equal(response.body.error.field, field);
    }
  });
});
