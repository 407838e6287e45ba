/**
 * Stored templates over the API, and sending from them: versions, the HTML
 * body escaping what it prints, and every problem — a syntax error when a
 * template is saved, a missing variable when it is sent — a 400 naming the
 * field with line and column, with nothing queued.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { apiClient, type ApiClient } from './client.ts';

describeEachStore('API templates', (engine) => {
  let m: TestMailroom;
  let api: ApiClient;
  let other: ApiClient;
  let sender: { email: string; secret: string; accountId: string; domain: string };

  before(async () => {
    m = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp,http' });
    sender = await m.createSender();
    api = apiClient(m.port('http'), sender.secret);
    other = apiClient(m.port('http'), (await m.createSender({ email: 'zed@other.example', domain: 'other.example' })).secret);
  });
  after(async () => { await m.stop(); });

  const storedText = async (id: string) => {
    const row = await m.running.store.db.selectFrom('messages').select('raw').where('id', '=', id).executeTakeFirstOrThrow();
    return Buffer.from(row.raw).toString('utf8');
  };
  const messageCount = async () => Number((await m.running.store.db.selectFrom('messages').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  test('a template is created, edited as new versions, read at any version, listed and deleted', async () => {
    const created = await api.post('/api/v1/templates', { name: 'receipt', subject: 'Order {{ order }}', text: 'Total: {{ total }}' });
    assert.equal(created.status, 201);
    assert.equal(created.body.version, 1);
    assert.equal(created.body.html, null);

    const duplicate = await api.post('/api/v1/templates', { name: 'receipt', subject: 's', text: 't' });
    assert.equal(duplicate.status, 409);
    assert.equal(duplicate.body.error.code, 'template_exists');

    const edited = await api.call('PUT', '/api/v1/templates/receipt', { body: { subject: 'Your order {{ order }}', text: 'Total: {{ total }} EUR' } });
    assert.equal(edited.status, 200);
    assert.equal(edited.body.version, 2);

    const newest = await api.get('/api/v1/templates/receipt');
    assert.equal(newest.body.version, 2);
    assert.equal(newest.body.subject, 'Your order {{ order }}');
    const first = await api.get('/api/v1/templates/receipt?version=1');
    assert.equal(first.body.subject, 'Order {{ order }}');
    assert.equal(first.body.currentVersion, 2);
    assert.equal((await api.get('/api/v1/templates/receipt?version=3')).status, 404);

    const list = await api.get('/api/v1/templates');
    assert.deepEqual(list.body.items.map((t: { name: string; currentVersion: number }) => [t.name, t.currentVersion]), [['receipt', 2]]);
    assert.equal((await other.get('/api/v1/templates/receipt')).status, 404, "another account does not see it");

    assert.equal((await api.del('/api/v1/templates/receipt')).status, 204);
    assert.equal((await api.get('/api/v1/templates/receipt')).status, 404);
  });

  test('a syntax error is refused when the template is saved, naming the part, line and column', async () => {
    const response = await api.post('/api/v1/templates', { name: 'broken', subject: 'ok', html: '<p>\n  {% if vip %}hello</p>' });
    assert.equal(response.status, 400);
    assert.equal(response.body.error.code, 'template_syntax');
    assert.equal(response.body.error.field, 'html');
    assert.match(response.body.error.message, /line 2, column 3/);
    const unknownFilter = await api.post('/api/v1/templates', { name: 'broken', subject: '{{ name | shout }}', text: 't' });
    assert.equal(unknownFilter.body.error.field, 'subject');
    const fileTag = await api.post('/api/v1/templates', { name: 'broken', subject: 's', text: '{% include "/etc/passwd" %}' });
    assert.equal(fileTag.status, 400, 'templates cannot read files');
    assert.equal((await api.get('/api/v1/templates/broken')).status, 404);
  });

  test('a send renders every part; HTML output is escaped; the message records the version it used', async () => {
    await api.post('/api/v1/templates', {
      name: 'welcome', subject: 'Welcome, {{ user.name }}', text: 'Hi {{ user.name }}, your plan is {{ plan | upcase }}.',
      html: '<p>Hi {{ user.name }}</p>{% for item in items %}<li>{{ item }}</li>{% endfor %}',
    });
    const response = await api.post('/api/v1/messages', {
      from: sender.email, to: 'bob@example.com', template: 'welcome',
      variables: { user: { name: 'Bob <script>' }, plan: 'pro', items: ['a&b', 'c'] },
    });
    assert.equal(response.status, 202, JSON.stringify(response.body));
    const raw = await storedText(response.body.id);
    assert.match(raw, /\r\nSubject: Welcome, Bob <script>\r\n/);
    assert.match(raw, /Hi Bob <script>, your plan is PRO\./);
    assert.match(raw, /<p>Hi Bob &lt;script&gt;<\/p><li>a&amp;b<\/li><li>c<\/li>/);

    const logged = await api.get(`/api/v1/messages/${response.body.id}`);
    assert.deepEqual(logged.body.template, { name: 'welcome', version: 1 });

    await api.call('PUT', '/api/v1/templates/welcome', { body: { subject: 'Hello {{ user.name }}', text: 'v2' } });
    const second = await api.post('/api/v1/messages', { from: sender.email, to: 'bob@example.com', template: 'welcome', variables: { user: { name: 'Bob' } } });
    assert.equal(second.status, 202);
    assert.deepEqual((await api.get(`/api/v1/messages/${second.body.id}`)).body.template, { name: 'welcome', version: 2 });
    assert.deepEqual((await api.get(`/api/v1/messages/${response.body.id}`)).body.template, { name: 'welcome', version: 1 }, 'the first keeps its version');

    const plain = await api.post('/api/v1/messages', { from: sender.email, to: 'bob@example.com', subject: 's', text: 't' });
    assert.equal((await api.get(`/api/v1/messages/${plain.body.id}`)).body.template, undefined);
  });

  test('a missing variable is a 400 naming it with line and column, and nothing is queued', async () => {
    await api.post('/api/v1/templates', { name: 'invoice', subject: 'Invoice {{ number }}', text: 'Dear {{ name }},\nyou owe {{ amount.total }}.' });
    const before = await messageCount();
    const response = await api.post('/api/v1/messages', {
      from: sender.email, to: 'bob@example.com', template: 'invoice', variables: { number: 7, name: 'Bob', amount: {} },
    });
    assert.equal(response.status, 400);
    assert.equal(response.body.error.code, 'missing_variable');
    assert.equal(response.body.error.field, 'variables.amount.total');
    // Column 12 is where "amount.total" starts in "you owe {{ amount.total }}."
    assert.match(response.body.error.message, /text at line 2, column 12/);
    assert.equal(await messageCount(), before);
  });

  test('bad combinations and unknown templates are 400s naming the field', async () => {
    await api.post('/api/v1/templates', { name: 'plain', subject: 'Hi {{ who }}', text: 'x' });
    const cases: Array<[Record<string, unknown>, number, string, string]> = [
      [{ from: sender.email, to: 'b@example.com', template: 'nope', variables: {} }, 400, 'unknown_template', 'template'],
      [{ from: sender.email, to: 'b@example.com', template: 'plain', variables: { who: 'x' }, subject: 'also' }, 400, 'template_with_fields', 'subject'],
      [{ from: sender.email, to: 'b@example.com', subject: 's', text: 't', variables: { who: 'x' } }, 400, 'variables_without_template', 'variables'],
      [{ from: sender.email, to: 'b@example.com', template: 'plain', variables: { who: 'x\r\nBcc: victim@example.com' } }, 400, 'header_injection', 'variables'],
      [{ from: sender.email, to: 'b@example.com', template: 'plain', variables: { who: 'x' }, raw: 'AAAA' }, 400, 'template_with_fields', 'raw'],
    ];
    const before = await messageCount();
    for (const [body, status, code, field] of cases) {
      const response = await api.post('/api/v1/messages', body);
      assert.equal(response.status, status, JSON.stringify(body));
      assert.equal(response.body.error.code, code);
      assert.equal(response.body.error.field, field);
    }
    assert.equal(await messageCount(), before);
  });

  test('a template cannot reach past its variables or run away', async () => {
    await api.post('/api/v1/templates', { name: 'probe', subject: 's', text: '{{ who.constructor }}' });
    const probe = await api.post('/api/v1/messages', { from: sender.email, to: 'b@example.com', template: 'probe', variables: { who: 'x' } });
    assert.equal(probe.status, 400);
    assert.equal(probe.body.error.code, 'missing_variable');

    await api.post('/api/v1/templates', { name: 'loop', subject: 's', text: '{% for i in (1..100000000) %}{{ i }}{% endfor %}' });
    const loop = await api.post('/api/v1/messages', { from: sender.email, to: 'b@example.com', template: 'loop' });
    assert.equal(loop.status, 400);
    assert.equal(loop.body.error.code, 'template_too_expensive');
  });
});
