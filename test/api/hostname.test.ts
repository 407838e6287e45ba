/**
 * A server started with a bare host name tells API users (and so the
 * dashboard) that the SMTP server name and the records built on it are not
 * usable yet, with the fix.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { apiClient } from './client.ts';

describeEachStore('API with a host name that is not fully qualified', (engine) => {
  let mailroom: TestMailroom;
  before(async () => { mailroom = await startTestMailroom(engine, { MAILROOM_ROLES: 'http', MAILROOM_HOSTNAME: 'vm' }); });
  after(async () => { await mailroom?.stop(); });

  it('marks the SMTP server name, the SPF and return-path records and the overview as not usable yet', async () => {
    const sender = await mailroom.createSender();
    const api = apiClient(mailroom.port('http'), sender.secret);
    const account = await api.get('/api/v1/account');
    assert.equal(account.body.smtp.host, 'vm');
    assert.match(account.body.smtp.hostWarning, /"vm" is not a fully qualified name.*MAILROOM_HOSTNAME=mail\.example\.com/);

    const added = await api.post('/api/v1/domains', { name: 'news.example' });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const byPurpose = Object.fromEntries(added.body.records.map((r: any) => [r.purpose, r]));
    assert.match(byPurpose.spf.warning, /^Not usable yet/);
    assert.match(byPurpose['return-path'].warning, /^Not usable yet/);
    assert.equal(byPurpose.dkim.warning, undefined);

    const overview = await api.get('/api/v1/overview');
    assert.equal(overview.body.hostWarning, account.body.smtp.hostWarning);
    assert.deepEqual(overview.body.domainsNeedingAttention.map((d: any) => d.name), ['news.example']);
  });
});
