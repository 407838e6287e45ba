/**
 * The outside world of a delivery test: a DNS server on loopback that the
 * Mailroom under test resolves through, MX peers on loopback that receive
 * (or refuse) the mail, and a sender account whose domain's DKIM record is
 * published, so signatures can be checked by an independent verifier.
 */
import nodemailer from 'nodemailer';
import { startDnsServer, type TestDnsServer } from './dns-server.ts';
import { startMxPeer, type MxBehaviour, type MxPeer } from './mx-peer.ts';
import { startTestMailroom, type TestMailroom } from './mailroom.ts';
import type { StartOptions } from '../../src/main.ts';
import type { EngineName } from './stores.ts';
import { domainRecords, getDomainRow } from '../../src/domains/domains.ts';

export interface DeliveryWorld {
  dns: TestDnsServer;
  mailroom: TestMailroom;
  sender: { email: string; secret: string; accountId: string; domain: string };
  /** An MX peer serving `domain` (MX record → 127.0.0.1). All peers share one port: MAILROOM_DELIVERY_PORT. */
  mx: MxPeer;
  send(message: { to: string | string[]; subject?: string; text?: string; from?: string }): Promise<string>;
  close(): Promise<void>;
}

export interface DeliveryWorldOptions {
  env?: Record<string, string>;
  behaviour?: MxBehaviour;
  /** The certificate the MX peer presents (default: a self-signed one for localhost). */
  mxTls?: { key: string; cert: string };
  /** More start options (the defaults here are short polls and timeouts). */
  start?: StartOptions;
}

export async function startDeliveryWorld(engine: EngineName, options: DeliveryWorldOptions = {}): Promise<DeliveryWorld> {
  const dns = await startDnsServer();
  const mx = await startMxPeer({ behaviour: options.behaviour ?? 'accept', tls: options.mxTls });
  // If Mailroom fails to start, the peers must still close, or the test process hangs.
  const mailroom = await startTestMailroom(engine, {
    MAILROOM_DNS_SERVERS: dns.address,
    MAILROOM_DELIVERY_PORT: String(mx.port),
    MAILROOM_RETRY_SCHEDULE: '1s',
    ...options.env,
  }, { deliveryPollMs: 100, dnsCacheMs: 0, deliveryTimeouts: { connectMs: 2000, greetingMs: 2000, dataMs: 5000 }, ...options.start }).catch(async (error) => {
    await mx.close();
    await dns.close();
    throw error;
  });
  const sender = await mailroom.createSender();
  dns.publish(domainRecords(await getDomainRow(mailroom.running.store, sender.domain, null), mailroom.config.hostname));
  const transport = nodemailer.createTransport({
    host: '127.0.0.1', port: mailroom.port('submission'), secure: false, requireTLS: false, ignoreTLS: true,
    auth: { user: sender.email, pass: sender.secret },
  });
  return {
    dns, mailroom, sender, mx,
    async send(message) {
      const info = await transport.sendMail({
        from: message.from ?? sender.email, to: message.to, subject: message.subject ?? 'Hello', text: message.text ?? 'Hello from the test.',
      });
      const id = /queued as (\S+)/.exec(info.response)?.[1];
      if (!id) throw new Error(`unexpected reply: ${info.response}`);
      return id;
    },
    async close() {
      transport.close();
      await mailroom.stop();
      await mx.close();
      await dns.close();
    },
  };
}

/** Routes a recipient domain to the loopback MX peer. */
export function routeDomainToPeer(dns: TestDnsServer, domain: string): void {
  dns.set(domain, 'MX', { exchange: `mx.${domain}`, priority: 10 });
  dns.set(`mx.${domain}`, 'A', '127.0.0.1');
}
