/**
 * Outcomes in plain words, end to end: real replies from a loopback MX and real DNS answers
 * become an explanation (and what to do) beside the raw reply, with the next attempt and the
 * expiry, in the API, in webhooks and in `mailroom messages show`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { routeDomainToPeer, startDeliveryWorld, type DeliveryWorld } from '../support/delivery-world.ts';
import { cliEnv, runCli } from '../support/cli.ts';
import { apiClient } from '../api/client.ts';
import { createWebhook } from '../../src/events/webhooks.ts';
import { startWebhookSink, type WebhookSink } from '../support/webhook-sink.ts';
import { waitFor } from '../support/wait.ts';

const GMAIL_RATE_LIMIT = '421 4.7.28 [192.0.2.1] Gmail has detected an unusual rate of unsolicited mail originating from your DKIM domain. To protect our users from spam, mail sent from your domain has been temporarily rate limited. a1si123 - gsmtp';
const DMARC_REJECT = "550 5.7.26 Unauthenticated email from sender.example is not accepted due to domain's DMARC policy. a1si123 - gsmtp";
const HOUR = 3600_000;

describeEachStore('outcomes in plain words', (engine) => {
  let world: DeliveryWorld;
  let hooks: WebhookSink;
  before(async () => {
    world = await startDeliveryWorld(engine, {
      env: { MAILROOM_RETRY_SCHEDULE: '1h', MAILROOM_MAX_QUEUE_TIME: '2d' },
      start: { webhooks: { pollIntervalMs: 50, requestTimeoutMs: 2000, retry: { firstDelayMs: 100, maxDelayMs: 400 } } },
      behaviour: {
        rejectRcpt: (address) => (address.startsWith('ratelimited@') ? GMAIL_RATE_LIMIT : address.startsWith('dmarc@') ? DMARC_REJECT : null),
      },
    });
    routeDomainToPeer(world.dns, 'inbox.example');
    routeDomainToPeer(world.dns, world.sender.domain);
    hooks = await startWebhookSink();
    await createWebhook(world.mailroom.running.store, world.sender.accountId, {
      url: hooks.url, events: ['deferred', 'bounced'],
    });
  });
  after(async () => {
    await hooks?.close();
    await world?.close();
  });

  const api = () => apiClient(world.mailroom.port('http'), world.sender.secret);
  const recipientOf = async (id: string, address: string) => waitFor(`${address} to have an attempt`, async () => {
    const response = await api().get(`/api/v1/messages/${id}`);
    const recipient = response.body.recipients?.find((r: { address: string }) => r.address === address);
    return recipient && recipient.attempts.length > 0 && recipient.status !== 'queued' ? recipient : null;
  });

  test('a provider rate-limiting: held back without an attempt, said in plain words, with the next try and the expiry; the raw reply beside', async () => {
    const id = await world.send({ to: 'ratelimited@inbox.example' });
    // A throttling reply is a site asking for less (queue/shaping.ts): the recipient waits,
    // queued, with no attempt and no step of the retry schedule, and says why.
    const recipient = await waitFor('the rate-limited recipient to be held back', async () => {
      const response = await api().get(`/api/v1/messages/${id}`);
      const found = response.body.recipients?.find((r: { address: string }) => r.address === 'ratelimited@inbox.example');
      return found?.explanation ? found : null;
    });
    assert.equal(recipient.status, 'queued');
    assert.deepEqual(recipient.attempts, []);
    assert.match(recipient.explanation.summary, /provider is rate-limiting you/);
    assert.match(recipient.explanation.action, /tries again on its own/);
    const message = (await api().get(`/api/v1/messages/${id}`)).body;
    const next = Date.parse(recipient.nextAttemptAt) - Date.now();
    assert.ok(next < 0.5 * HOUR, `held back for ${next} ms, not a step of the 1 h retry schedule`);
    assert.equal(Date.parse(recipient.expiresAt), Date.parse(message.createdAt) + 48 * HOUR);
    assert.equal(hooks.received.some((r) => r.messageId === id && r.type === 'deferred'), false, 'being held back is not a deferral');

    const cli = await runCli(['messages', 'show', id], cliEnv(world.mailroom.database, { MAILROOM_MAX_QUEUE_TIME: '2d' }));
    assert.equal(cli.code, 0, cli.output);
    assert.match(cli.stdout, /ratelimited@inbox\.example: queued/);
    assert.match(cli.stdout, /provider is rate-limiting you/);
    assert.match(cli.stdout, /What to do: /);
    assert.ok(cli.stdout.includes('421 4.7.28'), 'the raw reply is shown too');
  });

  test("the receiver failing the sender's authentication: bounced, and it says what to fix", async () => {
    const id = await world.send({ to: 'dmarc@inbox.example' });
    const recipient = await recipientOf(id, 'dmarc@inbox.example');
    assert.equal(recipient.status, 'bounced');
    assert.match(recipient.explanation.summary, /authentication \(SPF, DKIM or DMARC\) failed/);
    assert.match(recipient.explanation.action, /domains verify/);
    assert.deepEqual([recipient.nextAttemptAt, recipient.expiresAt], [null, null]);
    const hook = await waitFor('the bounced webhook', () => hooks.received.find((r) => r.messageId === id && r.type === 'bounced'));
    assert.match(hook.explanation.summary, /authentication/);
    assert.equal(hook.nextAttemptAt, null);
  });

  test('the mailbox does not exist, the domain does not exist, no server answers: three different sentences', async () => {
    world.mx.script({ rejectRcpt: (address) => (address.startsWith('nobody@') ? '550 5.1.1 <nobody@inbox.example>: Recipient address rejected: User unknown in local recipient table' : null) });
    world.dns.set('silent.example', 'MX', { exchange: 'mx.silent.example', priority: 10 });
    world.dns.set('mx.silent.example', 'A', '127.0.0.9'); // nothing listens there
    try {
      const ids = {
        mailbox: await world.send({ to: 'nobody@inbox.example' }),
        domain: await world.send({ to: 'someone@no-such-domain.example' }),
        silent: await world.send({ to: 'someone@silent.example' }),
      };
      const mailbox = await recipientOf(ids.mailbox, 'nobody@inbox.example');
      const domain = await recipientOf(ids.domain, 'someone@no-such-domain.example');
      const silent = await recipientOf(ids.silent, 'someone@silent.example');
      assert.equal(mailbox.explanation.summary, "The recipient's server says this mailbox does not exist.");
      assert.equal(domain.explanation.summary, "The recipient's domain does not exist.");
      assert.equal(silent.explanation.summary, "No mail server of the recipient's domain answered.");
      assert.deepEqual([mailbox.status, domain.status, silent.status], ['bounced', 'bounced', 'deferred']);
    } finally {
      world.mx.script('accept');
    }
  });

  test("an attempt's duration counts the DNS lookups of its route", async () => {
    world.dns.delay('slow-to-answer.example', 400);
    try {
      const id = await world.send({ to: 'someone@slow-to-answer.example' });
      const recipient = await recipientOf(id, 'someone@slow-to-answer.example');
      assert.equal(recipient.explanation.summary, "The recipient's domain does not exist.");
      assert.ok(recipient.attempts[0].durationMs >= 400, `the attempt took ${recipient.attempts[0].durationMs} ms, the DNS answer alone 400`);
    } finally {
      world.dns.delay('slow-to-answer.example', 0);
    }
  });
});
