/**
 * Mailroom under test, alone in its process: started through startMailroom
 * with its configuration from the environment the benchmark sets, silent
 * logs, and one sending account with a verified domain, created before the
 * load starts.
 */
import pino from 'pino';
import { loadConfig } from '../../src/config/load.ts';
import { startMailroom } from '../../src/main.ts';
import { createAccount } from '../../src/accounts/accounts.ts';
import { addDomain, forceVerifyDomain, getDomainRow } from '../../src/domains/domains.ts';
import { serveInChild } from './protocol.ts';
import { createWebhook } from '../../src/events/webhooks.ts';

// Overridable, so a second sender can be made on a store that has the first (the flat-cost case).
const SENDER_DOMAIN = process.env.MAILROOM_BENCH_SENDER_DOMAIN ?? 'bench-sender.example';

serveInChild(async () => {
  const config = loadConfig(process.env);
  const running = await startMailroom(config, pino({ level: 'silent' }));
  // Limits are not what is measured here: the daily limit is set far out of reach.
  const created = await createAccount(running.store, { email: `owner@${SENDER_DOMAIN}`, dailyLimit: 1_000_000_000 });
  await addDomain(running.store, created.account.id, SENDER_DOMAIN, config.hostname);
  await forceVerifyDomain(running.store, await getDomainRow(running.store, SENDER_DOMAIN, null));
  // The mixed case: every accepted message is also a webhook to this URL.
  const webhookUrl = process.env.MAILROOM_BENCH_WEBHOOK_URL;
  if (webhookUrl) await createWebhook(running.store, created.account.id, { url: webhookUrl, events: ['accepted'] });
  const listener = running.listeners.find((l) => l.name.startsWith('submission (plain'));
  if (!listener) throw new Error('no plain submission listener: set MAILROOM_SMTP_PORT');
  return {
    target: {
      host: listener.host, port: listener.port, user: created.account.email, password: created.key.secret,
      mailFrom: `app@${SENDER_DOMAIN}`, rcptTo: 'someone@recipient.example',
    },
    stop: () => running.stop(),
  };
});
