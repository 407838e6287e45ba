/**
 * MAILROOM_SMTP_MAX_CLIENTS: a listener holds that many connections at once;
 * the next is told `421 4.4.5` and closed, and once one leaves a newcomer is
 * greeted again. (The bench's memory case holds 10,000 idle ones under the default.)
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { expectClosed, openDialogue, type SmtpDialogue } from '../support/smtp-dialogue.ts';
import { Replies, formatReply } from '../../src/smtp/replies.ts';

describeEachStore('SMTP connection limit', (engine) => {
  let mailroom: TestMailroom;
  const open: SmtpDialogue[] = [];

  before(async () => {
    mailroom = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp', MAILROOM_SMTP_MAX_CLIENTS: '3' });
  });
  after(async () => {
    for (const client of open) client.close();
    await mailroom?.stop();
  });

  it('greets up to the limit, refuses the next with 421 4.4.5, and greets again once one leaves', async () => {
    const port = mailroom.port('submission');
    for (let i = 0; i < 3; i++) {
      const client = await openDialogue(port);
      open.push(client);
      assert.match(client.greeting, /^220 /);
    }
    const refused = await openDialogue(port);
    assert.equal(refused.greeting, formatReply(Replies.tooManyClients()));
    await expectClosed(refused);

    const leaving = open.shift()!;
    leaving.close();
    await expectClosed(leaving);
    // The server sees the close a moment after the client does.
    let greeting = '';
    for (let attempt = 0; attempt < 50 && !greeting.startsWith('220 '); attempt++) {
      const client = await openDialogue(port);
      greeting = client.greeting;
      if (greeting.startsWith('220 ')) open.push(client);
      else client.close();
      if (!greeting.startsWith('220 ')) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.match(greeting, /^220 /);
  });
});
