/**
 * Verified domains re-checked on a schedule (src/domains/recheck.ts), against a loopback DNS
 * server, on both stores: a record that disappears or changes raises a health alert while the
 * domain stays verified; DNS not answering raises nothing; the alert clears once the records
 * are back; each domain is checked once a day, by one of several nodes.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore, createTestStore, type TestStore } from '../support/stores.ts';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.ts';
import { createAccount } from '../../src/accounts/accounts.ts';
import { addDomain, domainRecords, getDomainRow, toDomain, verifyDomain } from '../../src/domains/domains.ts';
import { recheckDueDomains } from '../../src/domains/recheck.ts';
import { createResolver } from '../../src/dns/resolver.ts';

const HOST = 'mailroom.test';
const DAY = 24 * 3600_000;

describeEachStore('domain re-checks', (engine) => {
  let t: TestStore;
  let dns: TestDnsServer;
  let accountId: string;
  let clock = Date.now();
  const resolver = () => createResolver([dns.address], { timeoutMs: 300, tries: 1 });
  const pass = () => recheckDueDomains({ store: t.store, resolver: resolver(), serverHostname: HOST, now: () => clock, jitterMs: 3600_000 });
  const domain = async (name: string) => toDomain(await getDomainRow(t.store, name, null));

  before(async () => {
    t = await createTestStore(engine);
    dns = await startDnsServer();
    accountId = (await createAccount(t.store, { email: 'owner@healthy.example', dailyLimit: 100 })).account.id;
    for (const name of ['healthy.example', 'second.example']) {
      const added = await addDomain(t.store, accountId, name, HOST);
      dns.publish(added.records);
      assert.equal((await verifyDomain(t.store, await getDomainRow(t.store, name, null), resolver(), HOST)).verified, true);
    }
  });
  after(async () => {
    await dns?.close();
    await t?.cleanup();
  });

  it('checks nothing before a day has passed, then every verified domain once', async () => {
    assert.deepEqual(await pass(), []);
    clock += DAY + 3600_000;
    const results = await pass();
    assert.deepEqual(results.map((r) => r.domain).sort(), ['healthy.example', 'second.example']);
    assert.ok(results.every((r) => r.alert === null && !r.changed));
    assert.deepEqual(await pass(), [], 'checked: not due again today');
  });

  it('a DKIM record that disappears raises an alert naming it; the domain stays verified', async () => {
    const row = await getDomainRow(t.store, 'healthy.example', null);
    const dkim = domainRecords(row, HOST).find((r) => r.purpose === 'dkim')!;
    dns.clear(dkim.name);
    clock += DAY + 3600_000;
    const results = await pass();
    const healthy = results.find((r) => r.domain === 'healthy.example')!;
    assert.equal(healthy.changed, true);
    assert.deepEqual(healthy.alert?.records.map((r) => [r.purpose, r.name]), [['dkim', dkim.name]]);
    assert.match(healthy.alert?.records[0].error ?? '', /No TXT record found/);
    const stored = await domain('healthy.example');
    assert.equal(stored.verified, true, 'mail keeps flowing while the owner fixes DNS');
    assert.equal(stored.healthAlert?.since, clock);
    assert.equal((await domain('second.example')).healthAlert, null);
    // The owner is told through the event stream (and so webhooks), once.
    const events = await t.store.db.selectFrom('message_events').selectAll().where('type', '=', 'domain_records_changed').execute();
    assert.equal(events.length, 1);
    assert.equal(events[0].account_id, accountId);
    assert.match(events[0].reply ?? '', new RegExp(`${dkim.name.replace(/\./g, '\\.')} \\(No TXT record found`));
    assert.deepEqual(JSON.parse(events[0].details ?? '{}').domain, 'healthy.example');
  });

  it('DNS not answering proves nothing: the alert stays as it was, no new one', async () => {
    dns.failWith('second.example', 'SERVFAIL');
    const since = (await domain('healthy.example')).healthAlert?.since;
    clock += DAY + 3600_000;
    const results = await pass();
    dns.failWith('second.example', null);
    assert.equal(results.find((r) => r.domain === 'second.example')?.alert, null);
    const healthy = results.find((r) => r.domain === 'healthy.example')!;
    assert.equal(healthy.changed, false);
    assert.equal((await domain('healthy.example')).healthAlert?.since, since, 'the alert keeps its first sighting');
  });

  it('the alert clears once the record is back', async () => {
    const row = await getDomainRow(t.store, 'healthy.example', null);
    dns.publish(domainRecords(row, HOST));
    clock += DAY + 3600_000;
    const healthy = (await pass()).find((r) => r.domain === 'healthy.example')!;
    assert.deepEqual([healthy.alert, healthy.changed], [null, true]);
    assert.equal((await domain('healthy.example')).healthAlert, null);
    const restored = await t.store.db.selectFrom('message_events').select('reply').where('type', '=', 'domain_records_restored').execute();
    assert.deepEqual(restored.map((e) => e.reply), ['DNS records of healthy.example check out again']);
    assert.equal((await t.store.db.selectFrom('message_events').select('id').where('type', '=', 'domain_records_changed').execute()).length, 1, 'the unanswered pass told nobody anything');
  });

  it('a changed SPF record (our host dropped) is caught too, and a verify by hand settles the alert', async () => {
    dns.set('second.example', 'TXT', 'v=spf1 include:_spf.other.example ~all');
    clock += DAY + 3600_000;
    const second = (await pass()).find((r) => r.domain === 'second.example')!;
    assert.deepEqual(second.alert?.records.map((r) => r.purpose), ['spf']);
    dns.publish(domainRecords(await getDomainRow(t.store, 'second.example', null), HOST));
    await verifyDomain(t.store, await getDomainRow(t.store, 'second.example', null), resolver(), HOST);
    assert.equal((await domain('second.example')).healthAlert, null);
  });

  it('several nodes running the schedule at once check each domain once', async () => {
    clock += DAY + 3600_000;
    const before = dns.queries.length;
    const passes = await Promise.all([pass(), pass(), pass()]);
    const checked = passes.flat().map((r) => r.domain).sort();
    assert.deepEqual(checked, ['healthy.example', 'second.example']);
    const dkimLookups = dns.queries.slice(before).filter((q) => q.name.includes('._domainkey.')).length;
    assert.equal(dkimLookups, 2, 'one DKIM lookup per domain');
  });
});
