import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeReturnPath, encodeReturnPath } from '../../src/message/verp.ts';

const SECRET = 'test-secret';

test('encodes b+<id>.<8-char tag>@<domain> and decodes it back', () => {
  const address = encodeReturnPath('dlv_01hx9z', 'bounces.example.com', SECRET);
  assert.match(address, /^b\+dlv_01hx9z\.[a-z2-7]{8}@bounces\.example\.com$/);
  assert.equal(decodeReturnPath(address, SECRET), 'dlv_01hx9z');
  assert.equal(decodeReturnPath(`<${address}>`, SECRET), 'dlv_01hx9z');
});

test('survives a remote MTA that folds the local part to upper case', () => {
  const address = encodeReturnPath('abc-123', 'bounces.example.com', SECRET);
  assert.equal(decodeReturnPath(address.toUpperCase(), SECRET), 'ABC-123');
});

test('a forged or damaged tag decodes to null', () => {
  const address = encodeReturnPath('victim', 'bounces.example.com', SECRET);
  const [local, domain] = address.split('@');
  const tag = local.slice(-8);
  const otherTag = tag.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
  assert.equal(decodeReturnPath(`${local.slice(0, -8)}${otherTag}@${domain}`, SECRET), null);
  assert.equal(decodeReturnPath(address, 'another-secret'), null);
  assert.equal(decodeReturnPath(encodeReturnPath('attacker', 'x.test', SECRET).replace('attacker', 'victim'), SECRET), null);
});

test('addresses that are not VERP decode to null', () => {
  for (const address of ['', 'postmaster@example.com', 'b+@example.com', 'b+abc@example.com', 'b+abc.short@example.com', 'b+a.b.c.ééééééééé@x', 'b+x.abcdefgh']) {
    assert.equal(decodeReturnPath(address, SECRET), null, address);
  }
});

test('refuses ids that would break the address', () => {
  assert.throws(() => encodeReturnPath('a.b', 'x.test', SECRET), RangeError);
  assert.throws(() => encodeReturnPath('a@b', 'x.test', SECRET), RangeError);
  assert.throws(() => encodeReturnPath('', 'x.test', SECRET), RangeError);
});
