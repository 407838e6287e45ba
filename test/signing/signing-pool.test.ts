import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { dkimVerify } from 'mailauth';
import { startSigningPool } from '../../src/signing/signing-pool.ts';

function keyFor(domain: string) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    key: { domain, selector: 'mr1', privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
    txt: `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`,
  };
}

const first = keyFor('one.example');
const second = keyFor('two.example');
// The same domain and selector with a new key (a domain removed and added again): must sign with the new one.
const replaced = keyFor('one.example');

async function verify(signed: Buffer, txt: string): Promise<string> {
  const result = await dkimVerify(signed, {
    resolver: async (name: string, rrtype: string) => {
      if (rrtype === 'TXT' && /\._domainkey\.(one|two)\.example$/.test(name)) return [[txt]];
      throw Object.assign(new Error(`no ${rrtype} for ${name}`), { code: 'ENOTFOUND' });
    },
  });
  return result.results[0]?.status.result ?? 'none';
}

function message(n: number, from: string): Buffer {
  // A small body: a Buffer from Node's shared pool, the case that must cross to the thread intact.
  return Buffer.from(`From: a@${from}\r\nTo: b@example.org\r\nSubject: n${n}\r\n\r\nbody ${n}\r\n`);
}

test('the signing threads sign with the key each request names, across many requests and two keys', async () => {
  const pool = startSigningPool({ size: 2 });
  try {
    const requests = Array.from({ length: 40 }, (_, n) => {
      const { key, txt } = n % 2 === 0 ? first : second;
      const raw = message(n, key.domain);
      return pool.sign(raw, key).then((signed) => ({ signed, raw, txt }));
    });
    for (const { signed, raw, txt } of await Promise.all(requests)) {
      assert.ok(signed.subarray(signed.length - raw.length).equals(raw), 'the message follows its signature unchanged');
      assert.equal(await verify(signed, txt), 'pass');
    }
    const later = await pool.sign(message(99, 'one.example'), replaced.key);
    assert.equal(await verify(later, replaced.txt), 'pass', 'a new key for the same selector is used at once');
    assert.equal(await verify(later, first.txt), 'fail');
  } finally {
    await pool.close();
  }
});

test('a key that cannot sign fails that request only', async () => {
  const pool = startSigningPool({ size: 1 });
  try {
    const broken = pool.sign(message(1, 'one.example'), { ...first.key, privateKeyPem: 'not a key' });
    const fine = pool.sign(message(2, 'one.example'), first.key);
    await assert.rejects(broken, /DKIM signing/);
    assert.equal(await verify(await fine, first.txt), 'pass');
  } finally {
    await pool.close();
  }
});

test('a signing thread that dies fails what it held, and a fresh thread signs what comes next', async () => {
  const pool = startSigningPool({ size: 1, entry: new URL('../support/crashing-sign-thread.ts', import.meta.url) });
  try {
    assert.equal(await verify(await pool.sign(message(1, 'one.example'), first.key), first.txt), 'pass');
    const crashing = pool.sign(Buffer.from('From: a@one.example\r\nSubject: CRASH-THE-SIGNER\r\n\r\nx\r\n'), first.key);
    await assert.rejects(crashing, /signing thread stopped/);
    const after = await pool.sign(message(2, 'one.example'), first.key);
    assert.equal(await verify(after, first.txt), 'pass', 'the replacement thread is sent the key again');
  } finally {
    await pool.close();
  }
});
