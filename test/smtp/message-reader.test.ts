/** The DATA reader: bare CR or LF anywhere, including across chunk boundaries, and the size limit. */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { hasBareLineEnding, readDataStream } from '../../src/smtp/message-reader.ts';

const read = (chunks: string[], max = 1024) => readDataStream(Readable.from(chunks.map((c) => Buffer.from(c, 'latin1'))), max);

it('accepts CRLF split across chunks anywhere', async () => {
  for (const chunks of [['a\r', '\nb\r\n'], ['a', '\r', '\n', 'b\r\n'], ['a\r\n', '\r\n'], ['a\r\n\r', '\n']]) {
    const result = await read(chunks);
    assert.equal(result.bareLineEnding, false, JSON.stringify(chunks));
    assert.equal(result.raw.toString('latin1'), chunks.join(''));
  }
});

it('finds a bare LF or CR, in a chunk, at its edges, or as the last byte', async () => {
  for (const chunks of [['a\nb\r\n'], ['a\r', 'b\r\n'], ['a\r\n', '\nb\r\n'], ['a\rb\r\n'], ['\n'], ['a\r\n.\r'], ['a\r\n', '.\r']]) {
    assert.equal((await read(chunks)).bareLineEnding, true, JSON.stringify(chunks));
  }
});

it('marks a message over the limit too big and keeps none of it', async () => {
  const result = await read(['x'.repeat(600), 'y'.repeat(600)], 1024);
  assert.equal(result.tooBig, true);
  assert.equal(result.raw.length, 0);
  assert.equal((await read(['x'.repeat(1024)], 1024)).tooBig, false);
});

it('hasBareLineEnding honours a CR that ended the previous chunk', () => {
  assert.equal(hasBareLineEnding(Buffer.from('\nabc'), true), false);
  assert.equal(hasBareLineEnding(Buffer.from('\nabc'), false), true);
  assert.equal(hasBareLineEnding(Buffer.from('abc'), true), true);
});
