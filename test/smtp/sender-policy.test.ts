/**
 * Who may send as whom: MAIL FROM and the header From must be on a verified
 * domain of the logged-in account. Refusals are `550 5.7.1` naming the domain
 * and what to do (never the library's guess, 5.1.1), and nothing is stored.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { message, openDialogue, queueIdOf, sendMessage, type SmtpDialogue } from '../support/smtp-dialogue.ts';
import { Replies, formatReply } from '../../src/smtp/replies.ts';
import { addDomain, forceVerifyDomain, getDomainRow } from '../../src/domains/domains.ts';
import { suppress } from '../../src/suppressions/suppressions.ts';

describeEachStore('sender policy at MAIL FROM and DATA', (engine) => {
  let mailroom: TestMailroom;
  let sender: { email: string; secret: string; accountId: string; domain: string };
  let neighbour: { domain: string };
  const open: SmtpDialogue[] = [];
  const UNVERIFIED = 'pending.example';

  const loggedIn = async () => {
    const client = await openDialogue(mailroom.port('submission'));
    open.push(client);
    await client.ehlo();
    assert.equal(await client.authPlain(sender.email, sender.secret), '235 2.7.0 Authentication successful');
    return client;
  };
  const storedMessages = async () => (await mailroom.running.store.db.selectFrom('messages').select('id').execute()).length;

  before(async () => {
    mailroom = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp' });
    sender = await mailroom.createSender({ domain: 'verified.example' });
    neighbour = await mailroom.createSender({ domain: 'neighbour.example' });
    await addDomain(mailroom.running.store, sender.accountId, UNVERIFIED, mailroom.config.hostname);
  });
  after(async () => {
    for (const client of open) client.close();
    await mailroom?.stop();
  });

  it('refuses MAIL FROM on a domain the account has not added, naming it and saying to add it', async () => {
    const client = await loggedIn();
    const reply = await client.say('MAIL FROM:<me@stranger.example>');
    assert.equal(reply, formatReply(Replies.senderDomainNotAdded('stranger.example')));
    assert.equal(reply, '550 5.7.1 Sender domain stranger.example is not a domain of your account; add it under Settings -> Domains and publish its DNS records');
  });

  it('refuses MAIL FROM on an added but unverified domain, saying to verify it', async () => {
    const client = await loggedIn();
    const reply = await client.say(`MAIL FROM:<me@${UNVERIFIED}>`);
    assert.equal(reply, formatReply(Replies.senderDomainNotVerified(UNVERIFIED)));
    assert.equal(reply, `550 5.7.1 Sender domain ${UNVERIFIED} is not verified yet; publish its DNS records and press Verify under Settings -> Domains`);
  });

  it("treats another account's verified domain, and a subdomain of our own, as not added", async () => {
    const client = await loggedIn();
    assert.equal(await client.say(`MAIL FROM:<ceo@${neighbour.domain}>`), formatReply(Replies.senderDomainNotAdded(neighbour.domain)));
    assert.equal(await client.say('MAIL FROM:<x@sub.verified.example>'), formatReply(Replies.senderDomainNotAdded('sub.verified.example')));
  });

  it('refuses the null sender, and accepts its own domain in any case', async () => {
    const client = await loggedIn();
    assert.equal(await client.say('MAIL FROM:<>'), formatReply(Replies.nullSenderNotAllowed()));
    assert.equal(await client.say('MAIL FROM:<News@Verified.EXAMPLE>'), '250 2.1.0 Accepted');
  });

  it('refuses a header From on another domain at the end of DATA, and stores nothing', async () => {
    const before = await storedMessages();
    const cases: Array<[string, string]> = [
      ['From: ceo@neighbour.example', formatReply(Replies.headerFromNotAllowed('neighbour.example'))],
      [`From: "Team" <team@${UNVERIFIED}>`, formatReply(Replies.headerFromNotAllowed(UNVERIFIED))],
      // The display name looks like our address; the address is what counts.
      ['From: "owner@verified.example" <boss@evil.example>', formatReply(Replies.headerFromNotAllowed('evil.example'))],
    ];
    for (const [from, expected] of cases) {
      const client = await loggedIn();
      const data = [from, 'To: r@rcpt.example', 'Subject: hi', '', 'body', ''].join('\r\n');
      assert.equal(await sendMessage(client, { from: sender.email, to: ['r@rcpt.example'] }, data), expected);
    }
    assert.equal(formatReply(Replies.headerFromNotAllowed('x.example')).slice(0, 10), '550 5.7.1 ');
    assert.equal(await storedMessages(), before);
  });

  it('checks every author: a second address in From, or a second From field, cannot smuggle in another domain', async () => {
    const before = await storedMessages();
    const twoAuthors = ['From: owner@verified.example, boss@evil.example', 'Sender: owner@verified.example', 'To: r@rcpt.example', '', 'body', ''].join('\r\n');
    const client = await loggedIn();
    assert.equal(await sendMessage(client, { from: sender.email, to: ['r@rcpt.example'] }, twoAuthors), formatReply(Replies.headerFromNotAllowed('evil.example')));

    const twoFields = ['From: owner@verified.example', 'From: boss@evil.example', 'To: r@rcpt.example', '', 'body', ''].join('\r\n');
    const again = await loggedIn();
    assert.equal(await sendMessage(again, { from: sender.email, to: ['r@rcpt.example'] }, twoFields), formatReply(Replies.missingHeaderFrom()));
    assert.equal(await storedMessages(), before);
  });

  it('refuses a message without a From header', async () => {
    const client = await loggedIn();
    const data = ['To: r@rcpt.example', 'Subject: anonymous', '', 'body', ''].join('\r\n');
    assert.equal(await sendMessage(client, { from: sender.email, to: ['r@rcpt.example'] }, data), formatReply(Replies.missingHeaderFrom()));
  });

  it('recognises an internationalised domain whether the client writes it in punycode or in Unicode', async () => {
    await addDomain(mailroom.running.store, sender.accountId, 'xn--bcher-kva.example', mailroom.config.hostname);
    await forceVerifyDomain(mailroom.running.store, await getDomainRow(mailroom.running.store, 'xn--bcher-kva.example', sender.accountId));
    const client = await loggedIn();
    const ascii = ['From: news@xn--bcher-kva.example', 'To: r@rcpt.example', 'Subject: idn', '', 'body', ''].join('\r\n');
    queueIdOf(await sendMessage(client, { from: 'news@xn--bcher-kva.example', to: ['r@rcpt.example'] }, ascii));
    assert.equal(await client.say('MAIL FROM:<news@bücher.example> SMTPUTF8'), '250 2.1.0 Accepted');
    assert.equal(await client.say('RCPT TO:<r@rcpt.example>'), '250 2.1.5 Accepted');
    assert.equal(await client.say('DATA'), '354 End data with <CR><LF>.<CR><LF>');
    client.write(`${['From: news@bücher.example', 'To: r@rcpt.example', 'Subject: idn', '', 'body', ''].join('\r\n')}.\r\n`);
    queueIdOf((await client.reply())[0]);
    assert.equal(await client.say('MAIL FROM:<news@xn--mller-kva.example>'), formatReply(Replies.senderDomainNotAdded('xn--mller-kva.example')));
  });

  it('refuses a suppressed recipient at RCPT with 550 5.7.1, saying why and since when; the others go through', async () => {
    await suppress(mailroom.running.store.db, sender.accountId, 'Bounced@Rcpt.example', 'hard bounce', null);
    const since = (await mailroom.running.store.db.selectFrom('suppressions').select('created_at').where('account_id', '=', sender.accountId).executeTakeFirstOrThrow()).created_at;
    const client = await loggedIn();
    assert.equal(await client.say('MAIL FROM:<owner@verified.example>'), '250 2.1.0 Accepted');
    const refused = await client.say('RCPT TO:<bounced@rcpt.example>');
    assert.equal(refused, formatReply(Replies.recipientSuppressed('bounced@rcpt.example', 'hard bounce', Number(since))));
    assert.match(refused, /^550 5\.7\.1 Recipient bounced@rcpt\.example is suppressed since \S+ \(hard bounce\)/);
    assert.equal(await client.say('RCPT TO:<fine@rcpt.example>'), '250 2.1.5 Accepted');
  });

  it('accepts From on a verified domain, with a display name and in another case', async () => {
    const client = await loggedIn();
    const data = message('"The Owner" <Owner@VERIFIED.example>', 'r@rcpt.example');
    queueIdOf(await sendMessage(client, { from: sender.email, to: ['r@rcpt.example'] }, data));
    // Two authors, both ours, with a Sender: allowed by RFC 5322 and by us.
    const both = ['From: a@verified.example, b@verified.example', 'Sender: a@verified.example', 'To: r@rcpt.example', '', 'body', ''].join('\r\n');
    queueIdOf(await sendMessage(client, { from: sender.email, to: ['r@rcpt.example'] }, both));
  });
});
