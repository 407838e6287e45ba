/**
 * Open and click tracking: off until a domain turns it on; a message may ask
 * only for what its domain enables; the pixel and the rewritten links record
 * `opened` / `clicked` events with the user agent; an altered link records
 * nothing and redirects nowhere (no open redirect).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { apiClient, type ApiClient } from './client.ts';

describeEachStore('open and click tracking', (engine) => {
  let m: TestMailroom;
  let api: ApiClient;
  let sender: { email: string; secret: string; accountId: string; domain: string };

  before(async () => {
    m = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp,http', MAILROOM_PUBLIC_URL: 'https://mail.example.net' });
    sender = await m.createSender();
    api = apiClient(m.port('http'), sender.secret);
  });
  after(async () => { await m.stop(); });

  const html = '<html><body><p>Hi</p><a href="https://shop.example/sale?a=1&amp;b=2">sale</a> <a href="mailto:x@example.com">mail</a></body></html>';
  const storedHtml = async (id: string) => {
    const raw = Buffer.from((await m.running.store.db.selectFrom('messages').select('raw').where('id', '=', id).executeTakeFirstOrThrow()).raw).toString('utf8');
    // The composer may encode the HTML part as quoted-printable: decode soft breaks and =XX.
    return raw.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  };
  const local = (url: string) => url.replace('https://mail.example.net', `http://127.0.0.1:${m.port('http')}`).replaceAll('&amp;', '&');
  const events = async (id: string) => (await m.running.store.db.selectFrom('message_events').select(['type', 'recipient', 'reply']).where('message_id', '=', id).orderBy('id').execute())
    .filter((e) => e.type === 'opened' || e.type === 'clicked');

  test('off by default: nothing is rewritten, and asking for it is a 400 naming the field', async () => {
    const plain = await api.post('/api/v1/messages', { from: sender.email, to: 'ann@example.com', subject: 's', html });
    assert.equal(plain.status, 202);
    const stored = await storedHtml(plain.body.id);
    assert.doesNotMatch(stored, /\/t\/[oc]\?/);
    assert.deepEqual((await api.get(`/api/v1/domains/${sender.domain}/tracking`)).body, { opens: false, clicks: false });
    const asked = await api.post('/api/v1/messages', { from: sender.email, to: 'ann@example.com', subject: 's', html, track: { clicks: true } });
    assert.equal(asked.status, 400);
    assert.equal(asked.body.error.code, 'tracking_not_enabled');
    assert.equal(asked.body.error.field, 'track.clicks');
  });

  test('enabled on the domain: a pixel and signed links record opens and clicks with the user agent', async () => {
    assert.deepEqual((await api.call('PUT', `/api/v1/domains/${sender.domain}/tracking`, { body: { opens: true, clicks: true } })).body, { opens: true, clicks: true });
    const sent = await api.post('/api/v1/messages', { from: sender.email, to: 'ann@example.com', subject: 's', html });
    const stored = await storedHtml(sent.body.id);
    const pixel = /<img src="(https:\/\/mail\.example\.net\/t\/o\?[^"]+)"/.exec(stored)?.[1];
    const link = /<a href="(https:\/\/mail\.example\.net\/t\/c\?[^"]+)">sale<\/a>/.exec(stored)?.[1];
    assert.ok(pixel && link, stored);
    assert.match(stored, /<a href="mailto:x@example\.com">/, 'non-web links stay');

    const image = await fetch(local(pixel), { headers: { 'user-agent': 'TestMail/1.0' } });
    assert.equal(image.status, 200);
    assert.equal(image.headers.get('content-type'), 'image/gif');
    const click = await fetch(local(link), { redirect: 'manual', headers: { 'user-agent': 'TestBrowser/2.0' } });
    assert.equal(click.status, 302);
    assert.equal(click.headers.get('location'), 'https://shop.example/sale?a=1&b=2');
    const recorded = await events(sent.body.id);
    assert.deepEqual(recorded.map((e) => [e.type, e.recipient]), [['opened', 'ann@example.com'], ['clicked', 'ann@example.com']]);
    assert.match(recorded[0].reply!, /TestMail\/1\.0/);
    assert.match(recorded[1].reply!, /TestBrowser\/2\.0/);

    // A message may still turn tracking off.
    const off = await api.post('/api/v1/messages', { from: sender.email, to: 'ann@example.com', subject: 's', html, track: { opens: false, clicks: false } });
    assert.doesNotMatch(await storedHtml(off.body.id), /\/t\/[oc]\?/);
  });

  test('no open redirect: an altered or foreign link records nothing and redirects nowhere', async () => {
    const sent = await api.post('/api/v1/messages', { from: sender.email, to: 'bob@example.com', subject: 's', html });
    const link = local(/<a href="(https:\/\/mail\.example\.net\/t\/c\?[^"]+)">sale<\/a>/.exec(await storedHtml(sent.body.id))![1]);
    const url = new URL(link);
    const data = JSON.parse(Buffer.from(url.searchParams.get('d')!, 'base64url').toString('utf8'));
    data[2] = 'https://evil.example/';
    url.searchParams.set('d', Buffer.from(JSON.stringify(data)).toString('base64url'));
    const forged = await fetch(url, { redirect: 'manual' });
    assert.equal(forged.status, 404);
    assert.equal(forged.headers.get('location'), null);
    const unsigned = await fetch(`http://127.0.0.1:${m.port('http')}/t/c?d=${url.searchParams.get('d')}`, { redirect: 'manual' });
    assert.equal(unsigned.status, 404);
    assert.deepEqual(await events(sent.body.id), []);
  });
});
