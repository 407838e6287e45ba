import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { dkimVerify } from 'mailauth';
import { signMessage } from '../../src/signing/dkim.ts';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const KEY = {
  domain: 'example.com',
  selector: 'mr2024',
  privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
};
const TXT = `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
const KEY_NAME = `${KEY.selector}._domainkey.${KEY.domain}`;

// Trailing whitespace and a blank line at the end: relaxed body canonicalisation must cope.
const MESSAGE = Buffer.from([
  'From: "Alice Example" <alice@example.com>',
  'To: bob@example.org',
  'Cc: carol@example.net',
  'Subject: Quarterly report',
  '  folded onto a second line',
  'Date: Mon, 06 Jan 2025 10:00:00 +0000',
  'Message-ID: <report-1@example.com>',
  'Reply-To: reports@example.com',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: 8bit',
  'X-Mailer: not signed',
  '',
  'Hello Bob,   ',
  '',
  'the numbers are in. Grüße',
  '',
  '',
].join('\r\n'));

async function resolver(name: string, rrtype: string): Promise<string[][]> {
  if (rrtype === 'TXT' && name === KEY_NAME) return [[TXT]];
  throw Object.assign(new Error(`no ${rrtype} for ${name}`), { code: 'ENOTFOUND' });
}

test('prepends one DKIM-Signature: rsa-sha256, relaxed/relaxed, the visible headers signed', async () => {
  const signed = await signMessage(MESSAGE, KEY);
  assert.ok(signed.subarray(signed.length - MESSAGE.length).equals(MESSAGE), 'the message follows unchanged');
  const header = signed.subarray(0, signed.length - MESSAGE.length).toString().replace(/\r\n\s+/g, ' ');
  assert.match(header, /^DKIM-Signature: /);
  assert.equal(header.match(/DKIM-Signature:/g)?.length, 1);
  assert.match(header, /a=rsa-sha256/);
  assert.match(header, /c=relaxed\/relaxed/);
  assert.match(header, /d=example\.com/);
  assert.match(header, /s=mr2024/);
  const h = /h=([^;]+)/.exec(header)?.[1].replace(/\s/g, '').toLowerCase().split(':') ?? [];
  for (const name of ['from', 'to', 'cc', 'subject', 'date', 'message-id', 'reply-to', 'mime-version', 'content-type']) {
    assert.ok(h.includes(name), `${name} is signed (h=${h.join(':')})`);
  }
  assert.ok(!h.includes('x-mailer'));
});

test('mailauth verifies the signature with the published key, and fails a tampered copy', async () => {
  const signed = await signMessage(MESSAGE, KEY);
  const good = await dkimVerify(signed, { resolver });
  assert.equal(good.results.length, 1);
  assert.equal(good.results[0].status.result, 'pass', good.results[0].info);

  const tampered = Buffer.from(signed.toString('utf8').replace('Quarterly report', 'Quarterly r3port'), 'utf8');
  const bad = await dkimVerify(tampered, { resolver });
  assert.notEqual(bad.results[0].status.result, 'pass');
});

test('the independent Debian verifier (python3-dkim) agrees', async (t) => {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import dkim'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    if (process.env.CI === 'true') assert.fail(`/usr/bin/python3 cannot import dkim (python3-dkim is required in CI): ${probe.stderr || probe.error}`);
    t.skip('python3-dkim is not installed (/usr/bin/python3 cannot import dkim): apt-get install python3-dkim');
    return;
  }
  // dnsfunc serves the TXT record directly, so the check needs no DNS and no network.
  const script = [
    'import sys, dkim',
    'txt = sys.argv[1].encode()',
    'name = (sys.argv[2] + ".").encode()',
    'def dnsfunc(qname, timeout=5):',
    '    return txt if qname.lower().rstrip(b".") + b"." == name else None',
    'ok = dkim.verify(sys.stdin.buffer.read(), dnsfunc=dnsfunc)',
    'print("pass" if ok else "fail")',
  ].join('\n');
  const signed = await signMessage(MESSAGE, KEY);
  const run = (message: Buffer) => spawnSync('/usr/bin/python3', ['-c', script, TXT, KEY_NAME], { input: message, encoding: 'utf8' });

  const good = run(signed);
  assert.equal(good.status, 0, good.stderr);
  assert.equal(good.stdout.trim(), 'pass', good.stderr);

  const tampered = run(Buffer.from(signed.toString('utf8').replace('numbers are in', 'numbers are out'), 'utf8'));
  assert.equal(tampered.stdout.trim(), 'fail', tampered.stderr);
});

test('a bad key is an error, not an unsigned message', async () => {
  await assert.rejects(signMessage(MESSAGE, { ...KEY, privateKeyPem: 'not a key' }), /DKIM signing/);
});
