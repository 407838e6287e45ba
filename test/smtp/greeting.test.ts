/**
 * When each listener greets. Submission listeners greet at once: a client that
 * writes EHLO the moment it connects is answered as usual. The mx listener
 * keeps smtp-server's early-talker check (MAILROOM_MX_GREETING_DELAY, on by
 * default): a client that talks before the greeting is refused there.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';

/** Connects and writes EHLO in the same instant; returns the first two reply lines (or what came before the close). */
function talkFirst(port: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write('EHLO early.test\r\n'));
    let text = '';
    const done = () => {
      socket.destroy();
      resolve(text.split('\r\n').filter((line) => line !== ''));
    };
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => {
      text += chunk;
      // The greeting and the last line of the EHLO reply (or a refusal) are all we wait for.
      if (/^250 /m.test(text) || /^421 /m.test(text)) done();
    });
    socket.on('close', done);
    socket.on('error', reject);
  });
}

describeEachStore('greeting', (engine) => {
  let standard: TestMailroom;
  let noEarlyTalkerCheck: TestMailroom;
  before(async () => {
    standard = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp,mx', MAILROOM_MX_PORT: '0' });
    noEarlyTalkerCheck = await startTestMailroom(engine, { MAILROOM_ROLES: 'mx', MAILROOM_MX_PORT: '0', MAILROOM_MX_GREETING_DELAY: 'off' });
  });
  after(async () => {
    await standard?.stop();
    await noEarlyTalkerCheck?.stop();
  });

  it('answers a client that talks at once on the submission listener', async () => {
    const lines = await talkFirst(standard.port('submission'));
    assert.equal(lines[0], '220 mailroom.test ESMTP Mailroom');
    assert.match(lines[1], /^250[- ]mailroom\.test Nice to meet you/);
  });

  it('refuses a client that talks before the greeting on the mx listener', async () => {
    const lines = await talkFirst(standard.port('mx'));
    assert.match(lines[0], /^421 .*You talk too soon/);
  });

  it('greets at once on the mx listener when the early-talker check is off', async () => {
    const lines = await talkFirst(noEarlyTalkerCheck.port('mx'));
    assert.equal(lines[0], '220 mailroom.test ESMTP Mailroom');
    assert.match(lines[1], /^250[- ]mailroom\.test Nice to meet you/);
  });
});
