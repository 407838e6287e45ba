/**
 * A stranger's wrong passwords never stop a correct key. Clients bind
 * distinct loopback addresses (127.0.0.x), so the service sees them as
 * different machines: failures against one account from many of them are
 * answered 535 (later ones after a growing wait), never 421; the owner is
 * told (an `auth.failures` webhook and a notice in GET /api/v1/account); the
 * owner's correct key from an address that has not failed logs in. The
 * dashboard's sign-in follows the same policy.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { expectClosed, openDialogue, type SmtpDialogue } from '../support/smtp-dialogue.ts';
import { Replies, formatReply } from '../../src/smtp/replies.ts';
import { apiClient } from '../api/client.ts';
import { waitFor } from '../support/wait.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const plain = (user: string, pass: string) => `AUTH PLAIN ${b64(`\0${user}\0${pass}`)}`;
const AUTH_FAILED = formatReply(Replies.authFailed());
const AUTH_OK = '235 2.7.0 Authentication successful';

/** POST /api/v1/session from a chosen source address (fetch cannot bind one). */
function signIn(port: number, localAddress: string, email: string, password: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, localAddress, method: 'POST', path: '/api/v1/session', headers: { 'content-type': 'application/json' } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', reject);
    request.end(JSON.stringify({ email, password }));
  });
}

describeEachStore('failed logins from many addresses', (engine) => {
  let mailroom: TestMailroom;
  let victim: { email: string; secret: string; accountId: string };
  const received: any[] = [];
  let receiver: http.Server;
  const open: SmtpDialogue[] = [];
  const connect = async (localAddress: string) => {
    const client = await openDialogue(mailroom.port('submission'), { localAddress });
    open.push(client);
    await client.ehlo();
    return client;
  };

  before(async () => {
    // The (IP, account) figure below the IP one, as an operator sets it: both are configuration.
    mailroom = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp,http', MAILROOM_AUTH_MAX_ACCOUNT_FAILURES_PER_IP: '5' }, {
      webhooks: { pollIntervalMs: 50, requestTimeoutMs: 2000, retry: { firstDelayMs: 100, maxDelayMs: 400 } },
    });
    victim = await mailroom.createSender({ domain: 'victim.example' });
    receiver = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => { body += chunk; });
      request.on('end', () => { received.push(JSON.parse(body)); response.end('ok'); });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const owner = apiClient(mailroom.port('http'), victim.secret);
    const hook = await owner.post('/api/v1/webhooks', { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`, events: ['auth.failures'] });
    assert.equal(hook.status, 201);
  });
  after(async () => {
    for (const client of open) client.close();
    await new Promise((resolve) => receiver?.close(resolve));
    await mailroom?.stop();
  });

  it('SMTP: 12 failures from 6 addresses are slowed 535s, never a lock; the owner is told and logs in from a fresh address', async () => {
    const replies: string[] = [];
    const waits: number[] = [];
    for (let ip = 10; ip < 16; ip++) {
      const client = await connect(`127.0.0.${ip}`);
      for (let i = 0; i < 2; i++) {
        const started = Date.now();
        replies.push(await client.say(plain(victim.email, `mr_guess${ip}${i}`)));
        waits.push(Date.now() - started);
      }
    }
    assert.deepEqual(replies, Array(12).fill(AUTH_FAILED));
    // The 10th failure reaches the alert figure: 250 ms, then 500, then 1000 before the 535.
    assert.ok(waits[11] >= 1000, `the 12th failure waited ${waits[11]} ms`);

    const owner = await connect('127.0.0.30');
    assert.equal(await owner.say(plain(victim.email, victim.secret)), AUTH_OK);
    // An address that failed twice (below every lock) still logs in with the right key.
    const failedTwice = await connect('127.0.0.10');
    assert.equal(await failedTwice.say(plain(victim.email, victim.secret)), AUTH_OK);

    const alert = await waitFor('the auth.failures webhook', () => received.find((event) => event.type === 'auth.failures'));
    assert.equal(alert.messageId, null);
    assert.match(alert.reply, /10 or more failed SMTP logins for owner@victim\.example within 10 minutes/);
    const account = await apiClient(mailroom.port('http'), victim.secret).get('/api/v1/account');
    assert.equal(account.body.notices.length, 1);
    assert.deepEqual([account.body.notices[0].type, account.body.notices[0].message], ['auth.failures', alert.reply]);
  });

  it('SMTP: one address is refused for one account after MAILROOM_AUTH_MAX_ACCOUNT_FAILURES_PER_IP (5) failures (421, disconnect), still free for others; after 10 failures it is refused for all', async () => {
    // Accounts of their own: the victim's failures above already slow down any more against it.
    const target = await mailroom.createSender({ domain: 'target.example' });
    const other = await mailroom.createSender({ domain: 'other.example' });
    const guesser = await connect('127.0.0.40');
    const replies: string[] = [];
    for (let i = 0; i < 5; i++) replies.push(await guesser.say(plain(target.email, `wrong${i}`)));
    assert.deepEqual(replies.slice(0, 4), Array(4).fill(AUTH_FAILED));
    assert.match(replies[4], /^421 4\.7\.0 Too many failed logins; try again after /);
    const again = await connect('127.0.0.40');
    assert.match(await again.say(plain(target.email, target.secret)), /^421 4\.7\.0 /, 'this address has failed for this account: refused');
    await expectClosed(again);
    const forOther = await connect('127.0.0.40');
    assert.equal(await forOther.say(plain(other.email, other.secret)), AUTH_OK);
    assert.equal(await (await connect('127.0.0.41')).say(plain(target.email, target.secret)), AUTH_OK, 'the owner, from elsewhere, logs in');

    // Ten failures from one address, whatever the accounts: that address is refused for every account.
    const scanner = await connect('127.0.0.42');
    const scans: string[] = [];
    for (let i = 0; i < 10 && !scanner.isClosed(); i++) scans.push(await scanner.say(plain(`nobody${i}@nowhere.example`, 'x')));
    assert.deepEqual(scans.slice(0, 9), Array(9).fill(AUTH_FAILED));
    assert.match(scans[9], /^421 4\.7\.0 Too many failed logins/);
    await expectClosed(scanner);
    assert.match(await (await connect('127.0.0.42')).say(plain(other.email, other.secret)), /^421 4\.7\.0 /);
  });

  it('dashboard: sign-ins failed against one account from many addresses stay 401 and never lock the owner out', async () => {
    const port = mailroom.port('http');
    // The owner's dashboard login is its password; set one the way the CLI does.
    const { setPassword } = await import('../../src/accounts/accounts.ts');
    await setPassword(mailroom.running.store, victim.email, 'the-owners-password');
    const statuses: number[] = [];
    for (let ip = 50; ip < 62; ip++) statuses.push(await signIn(port, `127.0.0.${ip}`, victim.email, `guess${ip}`));
    assert.deepEqual(statuses, Array(12).fill(401));
    assert.equal(await signIn(port, '127.0.0.70', victim.email, 'the-owners-password'), 200);
    // One address failing ten times (any accounts) is refused: 429.
    const one: number[] = [];
    for (let i = 0; i < 10; i++) one.push(await signIn(port, '127.0.0.80', `nobody${i}@victim.example`, 'x'));
    assert.deepEqual(one, [...Array(9).fill(401), 429]);
    assert.equal(await signIn(port, '127.0.0.80', victim.email, 'the-owners-password'), 429);
  });
});
