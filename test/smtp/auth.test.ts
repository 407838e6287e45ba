/**
 * SMTP AUTH: username = account email, password = a live secret key. PLAIN
 * and LOGIN, wrong and revoked keys, another account's key, the dashboard
 * password, and identity after STARTTLS.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { openDialogue, playTranscript, type SmtpDialogue } from '../support/smtp-dialogue.ts';
import { Replies, formatReply } from '../../src/smtp/replies.ts';
import { createSecretKey, revokeSecretKey } from '../../src/accounts/keys.ts';
import { createAccount } from '../../src/accounts/accounts.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const plain = (user: string, pass: string) => `AUTH PLAIN ${b64(`\0${user}\0${pass}`)}`;
const AUTH_OK = '235 2.7.0 Authentication successful';
const AUTH_FAILED = formatReply(Replies.authFailed());

describeEachStore('SMTP AUTH', (engine) => {
  let mailroom: TestMailroom;
  let sender: { email: string; secret: string; accountId: string; domain: string };
  let other: { email: string; secret: string };
  const open: SmtpDialogue[] = [];
  const connect = async (tls = false) => {
    const client = await openDialogue(mailroom.port(tls ? 'submissions' : 'submission'), { tls });
    open.push(client);
    await client.ehlo();
    return client;
  };

  before(async () => {
    mailroom = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp' });
    sender = await mailroom.createSender();
    other = await mailroom.createSender();
  });
  after(async () => {
    for (const client of open) client.close();
    await mailroom?.stop();
  });

  it('accepts AUTH PLAIN with the account email and a secret key, then MAIL FROM', async () => {
    const client = await connect();
    const { actual, expected } = await playTranscript(client, [
      [plain(sender.email, sender.secret), AUTH_OK],
      [`MAIL FROM:<${sender.email}>`, '250 2.1.0 Accepted'],
      [`RCPT TO:<someone@rcpt.example>`, '250 2.1.5 Accepted'],
      ['RSET', '250 2.0.0 Flushed'],
      [plain(sender.email, sender.secret), '503 5.5.1 Error: No identity changes permitted'],
    ]);
    assert.equal(actual, expected);
  });

  it('accepts AUTH LOGIN, over implicit TLS as well', async () => {
    for (const tls of [false, true]) {
      const client = await connect(tls);
      const { actual, expected } = await playTranscript(client, [
        ['AUTH LOGIN', '334 VXNlcm5hbWU6'],
        [b64(sender.email), '334 UGFzc3dvcmQ6'],
        [b64(sender.secret), AUTH_OK],
      ]);
      assert.equal(actual, expected);
    }
  });

  it('takes the username in any case, as mail clients may capitalise it', async () => {
    const client = await connect();
    assert.equal(await client.say(plain(sender.email.toUpperCase(), sender.secret)), AUTH_OK);
  });

  it('refuses a wrong key, another account\'s key, an unknown account and the dashboard password with 535 5.7.8', async () => {
    const withPassword = await createAccount(mailroom.running.store, { email: 'dashboard@user.example', dailyLimit: 10, password: 'correct horse battery' });
    const attempts = [
      plain(sender.email, 'mr_not-a-real-key'),
      plain(sender.email, other.secret),
      plain('nobody@nowhere.example', sender.secret),
      plain(withPassword.account.email, 'correct horse battery'),
      plain('', sender.secret),
    ];
    for (const attempt of attempts) {
      const client = await connect();
      assert.equal(await client.say(attempt), AUTH_FAILED, attempt);
      assert.equal(await client.say(`MAIL FROM:<${sender.email}>`), formatReply(Replies.authRequired()));
    }
    assert.equal(AUTH_FAILED.slice(0, 10), '535 5.7.8 ');
  });

  it('stops accepting a key the moment it is revoked; the account\'s other keys keep working', async () => {
    const second = await createSecretKey(mailroom.running.store.db, sender.accountId, 'laptop');
    const before = await connect();
    assert.equal(await before.say(plain(sender.email, second.secret)), AUTH_OK);
    await revokeSecretKey(mailroom.running.store, second.id, null);
    const afterRevoke = await connect();
    assert.equal(await afterRevoke.say(plain(sender.email, second.secret)), AUTH_FAILED);
    const stillLive = await connect();
    assert.equal(await stillLive.say(plain(sender.email, sender.secret)), AUTH_OK);
  });

  it('forgets a login made before STARTTLS (RFC 3207): the TLS session must log in again', async () => {
    const client = await connect();
    assert.equal(await client.say(plain(sender.email, sender.secret)), AUTH_OK);
    await client.startTls();
    await client.ehlo();
    assert.equal(await client.say(`MAIL FROM:<${sender.email}>`), formatReply(Replies.authRequired()));
    assert.equal(await client.say(plain(sender.email, sender.secret)), AUTH_OK);
    assert.equal(await client.say(`MAIL FROM:<${sender.email}>`), '250 2.1.0 Accepted');
  });

  it('refuses an unknown mechanism and a malformed PLAIN token, and a later login still works', async () => {
    const client = await connect();
    assert.equal(await client.say('AUTH CRAM-MD5'), '504 5.5.4 Error: Unrecognized authentication type');
    assert.match(await client.say('AUTH PLAIN !!!notbase64'), /^5\d\d 5\.\d\.\d+ /);
    assert.equal(await client.say(plain(sender.email, sender.secret)), AUTH_OK);
  });
});
