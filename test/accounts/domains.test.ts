/**
 * Sending domains in the store: names, ownership, verification against a
 * loopback DNS server and its effect on the sender policy's facts.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore, createTestStore, type TestStore } from '../support/stores.ts';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.ts';
import { createAccount } from '../../src/accounts/accounts.ts';
import {
  addDomain, deleteDomain, domainRecords, forceVerifyDomain, getDomainRow, listDomains, normalizeDomainName, verifyDomain,
} from '../../src/domains/domains.ts';
import { createResolver } from '../../src/dns/resolver.ts';
import { UserError } from '../../src/errors.ts';

const HOST = 'mailroom.test';
const userError = (kind: string, code: string) => (error: unknown) => {
  assert.ok(error instanceof UserError, String(error));
  assert.equal(error.kind, kind);
  assert.equal(error.code, code);
  return true;
};

it('normalises domain names and refuses what is not one', () => {
  assert.equal(normalizeDomainName(' Mail.Example.COM. '), 'mail.example.com');
  for (const bad of ['localhost', 'a..example', '-x.example', 'x-.example', 'example.c', '192.0.2.1', 'ex ample.com', 'ex_ample.com', 'user@example.com', '', `${'a'.repeat(64)}.example`]) {
    assert.throws(() => normalizeDomainName(bad), userError('invalid', 'invalid_domain'), bad);
  }
});

describeEachStore('sending domains', (engine) => {
  let t: TestStore;
  let dns: TestDnsServer;
  let alice: string;
  let bob: string;
  const resolver = () => createResolver([dns.address], { timeoutMs: 500, tries: 1 });

  before(async () => {
    t = await createTestStore(engine);
    dns = await startDnsServer();
    alice = (await createAccount(t.store, { email: 'alice@alice.example', dailyLimit: 10 })).account.id;
    bob = (await createAccount(t.store, { email: 'bob@bob.example', dailyLimit: 10 })).account.id;
  });
  after(async () => {
    await dns?.close();
    await t?.cleanup();
  });

  it('adds a domain once across all accounts, with its own DKIM key and the records to publish', async () => {
    const { domain, records } = await addDomain(t.store, alice, 'News.Alice.Example', HOST);
    assert.equal(domain.name, 'news.alice.example');
    assert.equal(domain.verified, false);
    assert.equal(domain.returnPathDomain, 'bounces.news.alice.example');
    const row = await getDomainRow(t.store, 'news.alice.example', alice);
    assert.deepEqual(records, domainRecords(row, HOST), 'the same records every time they are shown');
    assert.match(row.dkim_private_key, /BEGIN PRIVATE KEY/);
    await assert.rejects(addDomain(t.store, alice, 'news.alice.example', HOST), userError('conflict', 'domain_exists'));
    await assert.rejects(addDomain(t.store, bob, 'NEWS.alice.example.', HOST), userError('conflict', 'domain_exists'));
  });

  it("keeps one account's domain out of another's reach", async () => {
    await assert.rejects(getDomainRow(t.store, 'news.alice.example', bob), userError('not-found', 'unknown_domain'));
    assert.deepEqual((await listDomains(t.store, bob)).map((d) => d.name), []);
    assert.deepEqual((await listDomains(t.store, alice)).map((d) => d.name), ['news.alice.example']);
    assert.deepEqual((await listDomains(t.store, null)).map((d) => d.name), ['news.alice.example']);
  });

  it('verifies once DNS holds the records, recording every check', async () => {
    const row = await getDomainRow(t.store, 'news.alice.example', alice);
    const before = await verifyDomain(t.store, row, resolver(), HOST);
    assert.equal(before.verified, false);
    assert.ok(before.records.every((r) => !r.ok && r.error));

    dns.publish(domainRecords(row, HOST));
    // What the SPF record and the return-path CNAME point at must have an address too.
    dns.set(HOST, 'A', '192.0.2.25');
    const after = await verifyDomain(t.store, await getDomainRow(t.store, 'news.alice.example', alice), resolver(), HOST);
    assert.equal(after.verified, true);
    assert.ok(after.records.every((r) => r.ok), JSON.stringify(after.records.filter((r) => !r.ok)));
    assert.deepEqual(after.records.find((r) => r.purpose === 'server-host')?.found, ['192.0.2.25']);
    const stored = await getDomainRow(t.store, 'news.alice.example', alice);
    assert.ok(stored.verified_at !== null);
    assert.equal(stored.verified_by, 'dns');
    assert.deepEqual(JSON.parse(stored.last_check!), JSON.parse(JSON.stringify(after.records)));
  });

  it('keeps a verified domain verified while DNS does not answer, and un-verifies it when the records are gone', async () => {
    const row = await getDomainRow(t.store, 'news.alice.example', alice);
    const names = [...new Set(domainRecords(row, HOST).map((r) => r.name))];
    for (const name of names) dns.failWith(name, 'SERVFAIL');
    try {
      const outage = await verifyDomain(t.store, row, resolver(), HOST);
      assert.equal(outage.verified, true, 'a resolver failure says nothing about the records');
      assert.ok(outage.records.some((r) => !r.ok && /try again/.test(r.error ?? '')), 'the checks show the failed lookups');
      assert.equal((await getDomainRow(t.store, row.name, alice)).verified_by, 'dns');
    } finally {
      for (const name of names) dns.failWith(name, null);
    }
    for (const name of names) dns.clear(name);
    const gone = await verifyDomain(t.store, await getDomainRow(t.store, row.name, alice), resolver(), HOST);
    assert.equal(gone.verified, false, 'records that are really missing do un-verify it');
    dns.publish(domainRecords(row, HOST));
    assert.equal((await verifyDomain(t.store, await getDomainRow(t.store, row.name, alice), resolver(), HOST)).verified, true);
  });

  it('keeps a domain verified by hand (--force) verified when DNS cannot confirm it', async () => {
    const { domain } = await addDomain(t.store, bob, 'intranet.bob.example', HOST);
    const forced = await forceVerifyDomain(t.store, await getDomainRow(t.store, domain.name, bob));
    assert.equal(forced.verified, true);
    assert.equal(forced.verifiedBy, 'force');
    const check = await verifyDomain(t.store, await getDomainRow(t.store, domain.name, bob), resolver(), HOST);
    assert.equal(check.verified, true);
    assert.equal(check.domain.verifiedBy, 'force');
    assert.ok(check.records.some((r) => !r.ok), 'the checks still show what DNS lacks');
  });

  it('lets a deleted domain be added again, by anyone, with a new key', async () => {
    const old = await getDomainRow(t.store, 'intranet.bob.example', bob);
    await deleteDomain(t.store, old);
    const again = await addDomain(t.store, alice, 'intranet.bob.example', HOST);
    assert.equal(again.domain.verified, false);
    assert.notEqual((await getDomainRow(t.store, 'intranet.bob.example', alice)).dkim_public_key, old.dkim_public_key);
  });
});
