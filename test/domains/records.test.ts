import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { createResolver } from '../../src/dns/resolver.ts';
import { dkimPublicKeyBase64, generateDkimKey, recordsToPublish, type DkimKey, type DnsRecordToPublish } from '../../src/domains/records.ts';
import { checkDomainRecords, isVerified, type RecordCheck } from '../../src/domains/verify.ts';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.ts';

const HOST = 'mail.mailroom.test';

let key: DkimKey;
let otherKey: DkimKey;
before(async () => {
  [key, otherKey] = await Promise.all([generateDkimKey(new Date('2026-11-03T12:00:00Z')), generateDkimKey()]);
});

function recordsFor(domain = 'example.com'): DnsRecordToPublish[] {
  return recordsToPublish(
    { name: domain, dkimSelector: key.selector, dkimPublicKeyPem: key.publicKeyPem, returnPathDomain: `bounces.${domain}` },
    HOST,
  );
}

function byPurpose(checks: RecordCheck[], purpose: RecordCheck['purpose']): RecordCheck {
  const check = checks.find((c) => c.purpose === purpose);
  assert.ok(check, `a ${purpose} check`);
  return check;
}

describe('generateDkimKey', () => {
  it('makes a 2048-bit RSA key named after the month', () => {
    assert.equal(key.selector, 'mr202611');
    assert.match(key.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.match(key.publicKeyPem, /^-----BEGIN PUBLIC KEY-----\n/);
    const pub = createPublicKey(key.publicKeyPem);
    assert.equal(pub.asymmetricKeyType, 'rsa');
    assert.equal(pub.asymmetricKeyDetails?.modulusLength, 2048);
  });
});

describe('recordsToPublish', () => {
  it('lists the DKIM, SPF, return-path and DMARC records', () => {
    const p = dkimPublicKeyBase64(key.publicKeyPem);
    assert.doesNotMatch(p, /-|\s/);
    assert.deepEqual(recordsToPublish(
      { name: 'Example.COM.', dkimSelector: 'mr202611', dkimPublicKeyPem: key.publicKeyPem, returnPathDomain: 'bounces.example.com' },
      HOST,
    ), [
      { purpose: 'dkim', type: 'TXT', name: 'mr202611._domainkey.example.com', value: `v=DKIM1; k=rsa; p=${p}` },
      { purpose: 'spf', type: 'TXT', name: 'example.com', value: `v=spf1 a:${HOST} ~all` },
      { purpose: 'return-path', type: 'CNAME', name: 'bounces.example.com', value: HOST },
      { purpose: 'dmarc', type: 'TXT', name: '_dmarc.example.com', value: 'v=DMARC1; p=none; rua=mailto:dmarc@bounces.example.com' },
    ]);
  });
});

describe('checkDomainRecords against a loopback DNS server', () => {
  let dns: TestDnsServer;
  before(async () => {
    dns = await startDnsServer();
  });
  after(() => dns.close());
  beforeEach(() => dns.clear());

  const check = (records = recordsFor()) => checkDomainRecords(records, createResolver([dns.address], { timeoutMs: 150, tries: 1 }));

  it('passes every record once all are published (long DKIM value split into chunks)', async () => {
    dns.publish(recordsFor());
    const checks = await check();
    assert.deepEqual(checks.map((c) => [c.purpose, c.ok, c.error]), [
      ['dkim', true, undefined],
      ['spf', true, undefined],
      ['return-path', true, undefined],
      ['dmarc', true, undefined],
    ]);
    assert.deepEqual(byPurpose(checks, 'dkim').found, [recordsFor()[0].value]);
    assert.equal(isVerified(checks), true);
  });

  it('fails a missing DKIM record with a sentence naming where to publish it', async () => {
    dns.publish(recordsFor().filter((r) => r.purpose !== 'dkim'));
    const checks = await check();
    const dkim = byPurpose(checks, 'dkim');
    assert.equal(dkim.ok, false);
    assert.deepEqual(dkim.found, []);
    assert.equal(dkim.error, 'No TXT record found at mr202611._domainkey.example.com — publish the value shown.');
    assert.equal(isVerified(checks), false);
  });

  it('fails a DKIM record holding another key', async () => {
    dns.publish(recordsFor());
    dns.set('mr202611._domainkey.example.com', 'TXT', `v=DKIM1; k=rsa; p=${dkimPublicKeyBase64(otherKey.publicKeyPem)}`);
    const dkim = byPurpose(await check(), 'dkim');
    assert.equal(dkim.ok, false);
    assert.match(dkim.error ?? '', /is not this domain's key/);
  });

  it('accepts a DKIM key with whitespace, reordered tags and odd chunking', async () => {
    dns.publish(recordsFor());
    const p = dkimPublicKeyBase64(key.publicKeyPem);
    const spaced = `${p.slice(0, 100)} ${p.slice(100, 300)}\t${p.slice(300)}`;
    dns.set('mr202611._domainkey.example.com', 'TXT', [['k=rsa;p=', spaced.slice(0, 50), spaced.slice(50), '; v=DKIM1; t=s'], 'unrelated']);
    assert.equal(byPurpose(await check(), 'dkim').ok, true);
  });

  it('fails two SPF records and asks to merge them', async () => {
    dns.publish(recordsFor());
    dns.set('example.com', 'TXT', [`v=spf1 a:${HOST} ~all`, 'v=spf1 include:_spf.google.com ~all', 'google-site-verification=x']);
    const spf = byPurpose(await check(), 'spf');
    assert.equal(spf.ok, false);
    assert.equal(spf.found.length, 2, 'found lists only the SPF records');
    assert.match(spf.error ?? '', /^Multiple SPF records at example\.com; merge them into one/);
  });

  it('passes an SPF record that authorises the host among other mechanisms, and fails one that does not', async () => {
    dns.publish(recordsFor());
    dns.set('example.com', 'TXT', [`v=spf1 include:_spf.google.com +include:${HOST.toUpperCase()}. -all`, 'other=1']);
    assert.equal(byPurpose(await check(), 'spf').ok, true);
    dns.set('example.com', 'TXT', 'v=spf1 include:_spf.google.com ~all');
    const spf = byPurpose(await check(), 'spf');
    assert.equal(spf.ok, false);
    assert.match(spf.error ?? '', /does not authorise mail\.mailroom\.test/);
  });

  it('checks the return-path CNAME target, ignoring case and a trailing dot', async () => {
    dns.publish(recordsFor());
    dns.set('bounces.example.com', 'CNAME', 'MAIL.Mailroom.Test.');
    assert.equal(byPurpose(await check(), 'return-path').ok, true);
    dns.set('bounces.example.com', 'CNAME', 'mail.elsewhere.test');
    const checks = await check();
    const rp = byPurpose(checks, 'return-path');
    assert.equal(rp.ok, false);
    assert.deepEqual(rp.found, ['mail.elsewhere.test']);
    assert.match(rp.error ?? '', /points to mail\.elsewhere\.test, not mail\.mailroom\.test/);
    assert.equal(isVerified(checks), false);
  });

  it('treats DMARC as advisory', async () => {
    dns.publish(recordsFor().filter((r) => r.purpose !== 'dmarc'));
    const checks = await check();
    assert.equal(byPurpose(checks, 'dmarc').ok, false);
    assert.match(byPurpose(checks, 'dmarc').error ?? '', /No DMARC record found at _dmarc\.example\.com/);
    assert.equal(isVerified(checks), true);
  });

  it('turns SERVFAIL and timeouts into try-again messages without internals', async () => {
    dns.publish(recordsFor());
    dns.failWith('mr202611._domainkey.example.com', 'SERVFAIL');
    dns.failWith('bounces.example.com', 'TIMEOUT');
    const checks = await check();
    const dkim = byPurpose(checks, 'dkim');
    assert.equal(dkim.ok, false);
    assert.equal(
      dkim.error,
      'DNS lookup of mr202611._domainkey.example.com failed: the DNS server failed to answer (SERVFAIL) — try again in a few minutes.',
    );
    assert.equal(byPurpose(checks, 'return-path').error, 'DNS lookup of bounces.example.com timed out — try again in a few minutes.');
    assert.equal(isVerified(checks), false);
  });

  it('is not verified when a required record is missing from the list', () => {
    const ok = (purpose: RecordCheck['purpose']): RecordCheck => ({ purpose, type: 'TXT', name: 'x', expected: 'y', found: ['y'], ok: true });
    assert.equal(isVerified([ok('dkim'), ok('spf'), ok('return-path')]), true);
    assert.equal(isVerified([ok('dkim'), ok('spf')]), false);
    assert.equal(isVerified([]), false);
  });
});
