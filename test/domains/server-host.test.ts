/**
 * MAILROOM_HOSTNAME is what the SPF record and the return-path CNAME point at:
 * a bare machine name is called out (records marked not usable yet, with the
 * fix), and verification checks that the name really has an address.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createResolver } from '../../src/dns/resolver.ts';
import { generateDkimKey, recordsToPublish, type DkimKey } from '../../src/domains/records.ts';
import { checkServerHost, hostnameProblem, hostnameWarning } from '../../src/domains/server-host.ts';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.ts';

describe('hostnameProblem', () => {
  it('accepts fully qualified names', () => {
    for (const name of ['mail.example.com', 'smtp.mail.example.co.uk', 'mailroom.test', 'MX1.Example.ORG.', 'mail.xn--bcher-kva.example']) {
      assert.equal(hostnameProblem(name), null, name);
    }
  });

  it('names what is wrong with a bare name, a private suffix and an address', () => {
    assert.match(hostnameProblem('vm')!, /"vm" is not a fully qualified name/);
    assert.match(hostnameProblem('debian.local')!, /ends in \.local/);
    assert.match(hostnameProblem('box.home.arpa')!, /ends in \.home\.arpa/);
    assert.match(hostnameProblem('10.0.0.5')!, /is an IP address/);
    assert.match(hostnameProblem('mail.example.123')!, /does not end in a top-level domain/);
  });

  it('the start-up warning carries the one-line fix', () => {
    assert.equal(hostnameWarning('mail.example.com'), null);
    assert.match(hostnameWarning('vm')!, /MAILROOM_HOSTNAME=mail\.example\.com/);
  });
});

describe('records built on the host name', () => {
  let key: DkimKey;
  before(async () => { key = await generateDkimKey(); });
  const records = (host: string) => recordsToPublish({ name: 'example.com', dkimSelector: key.selector, dkimPublicKeyPem: key.publicKeyPem, returnPathDomain: 'bounces.example.com' }, host);

  it('are marked not usable yet, with the fix, when the host name is bare', () => {
    const byPurpose = new Map(records('vm').map((r) => [r.purpose, r]));
    for (const purpose of ['spf', 'return-path'] as const) {
      assert.match(byPurpose.get(purpose)!.warning ?? '', /^Not usable yet: "vm" is not a fully qualified name.*MAILROOM_HOSTNAME=mail\.example\.com/, purpose);
    }
    // DKIM and DMARC do not mention the server, so they are fine as they are.
    assert.equal(byPurpose.get('dkim')!.warning, undefined);
    assert.equal(byPurpose.get('dmarc')!.warning, undefined);
  });

  it('carry no warning with a fully qualified host name', () => {
    assert.ok(records('mail.example.com').every((r) => r.warning === undefined));
  });
});

describe('checkServerHost (against a loopback DNS server)', () => {
  let dns: TestDnsServer;
  before(async () => { dns = await startDnsServer(); });
  after(async () => { await dns?.close(); });

  it('is ok when the name has an A or an AAAA record, and lists them', async () => {
    dns.set('mail.example.com', 'A', '192.0.2.25');
    dns.set('v6.example.com', 'AAAA', '2001:db8::25');
    const resolver = createResolver([dns.address]);
    const v4 = await checkServerHost('mail.example.com', resolver);
    assert.equal(v4.ok, true, v4.error);
    assert.deepEqual(v4.found, ['192.0.2.25']);
    const v6 = await checkServerHost('v6.example.com', resolver);
    assert.equal(v6.ok, true, v6.error);
    assert.deepEqual(v6.found, ['2001:db8::25']);
  });

  it('says so when the name has no address, and what to publish', async () => {
    const check = await checkServerHost('nowhere.example.com', createResolver([dns.address]));
    assert.equal(check.ok, false);
    assert.match(check.error!, /point at nowhere\.example\.com, but .*Publish an A \(or AAAA\) record for nowhere\.example\.com/);
  });

  it('fails a bare name without asking DNS', async () => {
    const before = dns.queries.length;
    const check = await checkServerHost('vm', createResolver([dns.address]));
    assert.equal(check.ok, false);
    assert.match(check.error!, /"vm" is not a fully qualified name/);
    assert.equal(dns.queries.length, before);
  });
});
