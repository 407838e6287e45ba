import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROVIDER_PATTERNS, providerOf, siteOf } from '../../src/delivery/sites.ts';

test('every provider pattern matches its own example', () => {
  for (const pattern of PROVIDER_PATTERNS) assert.equal(providerOf(pattern.example), pattern.site, pattern.example);
});

test('real MX host names of the big providers map to their site', () => {
  assert.equal(siteOf(['gmail-smtp-in.l.google.com', 'alt1.gmail-smtp-in.l.google.com']), 'google');
  assert.equal(siteOf(['ASPMX.L.GOOGLE.COM.', 'alt2.aspmx.l.google.com']), 'google');
  assert.equal(siteOf(['smtp.google.com']), 'google');
  assert.equal(siteOf(['example-org.mail.protection.outlook.com']), 'microsoft');
  assert.equal(siteOf(['hotmail-com.olc.protection.outlook.com']), 'microsoft');
  assert.equal(siteOf(['mx-aol.mail.gm0.yahoodns.net']), 'yahoo');
  assert.equal(siteOf(['mx02.mail.icloud.com', 'mx01.mail.icloud.com']), 'apple');
  assert.equal(siteOf(['mail.protonmail.ch', 'mailsec.protonmail.ch']), 'proton');
  assert.equal(siteOf(['in2-smtp.messagingengine.com']), 'fastmail');
  assert.equal(siteOf(['mx.zoho.com', 'mx2.zoho.com']), 'zoho');
});

test('names that only look like a provider are not that provider', () => {
  assert.equal(providerOf('google.com.evil.example'), null);
  assert.equal(providerOf('notgoogle.com'), null);
  assert.equal(providerOf('mx.outlook.com.example.net'), null);
});

test('other domains are grouped by their sorted set of MX hosts', () => {
  const a = siteOf(['mx2.example.net', 'mx1.example.net']);
  const b = siteOf(['MX1.example.net.', 'mx2.example.net', 'mx1.example.net']);
  assert.equal(a, 'mx1.example.net,mx2.example.net');
  assert.equal(b, a);
  assert.notEqual(siteOf(['mx1.example.net', 'mx2.example.net', 'backup.example.org']), a);
});

test('the most preferred host decides a mixed set', () => {
  assert.equal(siteOf(['aspmx.l.google.com', 'backup.example.net']), 'google');
  assert.equal(siteOf(['backup.example.net', 'aspmx.l.google.com']), 'aspmx.l.google.com,backup.example.net');
});

test('a destination without hosts has no site', () => {
  assert.throws(() => siteOf([]), /at least one MX host/);
});
