/**
 * A graceful stop: idle sessions are told `421 4.3.2` at once, a message
 * being transferred is finished and acknowledged (and is in the store), and
 * nothing new is accepted.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom } from '../support/mailroom.ts';
import { expectClosed, message, openDialogue, queueIdOf } from '../support/smtp-dialogue.ts';
import { Replies, formatReply } from '../../src/smtp/replies.ts';
import { openStore } from '../../src/store/database.ts';

describeEachStore('stopping the SMTP listeners', (engine) => {
  it('answers idle sessions 421 4.3.2, finishes the message in transfer, then refuses connections', async () => {
    const mailroom = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp' });
    const { url } = mailroom.database;
    try {
      const sender = await mailroom.createSender({ domain: 'stop.example' });
      const port = mailroom.port('submission');
      const idle = await openDialogue(port);
      await idle.ehlo();
      const busy = await openDialogue(port);
      await busy.ehlo();
      assert.equal(await busy.authPlain(sender.email, sender.secret), '235 2.7.0 Authentication successful');
      assert.equal(await busy.say('MAIL FROM:<a@stop.example>'), '250 2.1.0 Accepted');
      assert.equal(await busy.say('RCPT TO:<r@rcpt.example>'), '250 2.1.5 Accepted');
      assert.equal(await busy.say('DATA'), '354 End data with <CR><LF>.<CR><LF>');
      busy.write(message('a@stop.example', 'r@rcpt.example').slice(0, 20));

      const stopped = mailroom.running.stop();
      assert.deepEqual(await idle.reply(), [formatReply(Replies.shuttingDown())]);
      await expectClosed(idle);

      busy.write(`${message('a@stop.example', 'r@rcpt.example').slice(20)}.\r\n`);
      const id = queueIdOf((await busy.reply())[0]);
      await stopped;
      await assert.rejects(openDialogue(port), /ECONNREFUSED/);

      const store = await openStore(url);
      try {
        const row = await store.db.selectFrom('messages').select('id').where('id', '=', id).executeTakeFirst();
        assert.equal(row?.id, id, 'the acknowledged message is in the store');
      } finally {
        await store.close();
      }
    } finally {
      await mailroom.database.drop();
    }
  });
});
