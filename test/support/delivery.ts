/**
 * What the delivery end-to-end suites (and the retention, durability and
 * SMTP ones that deliver) share: reading a message back through the message
 * log once it settles, extra MX peers, DSNs, a burst sender and a remote
 * MTA's transaction.
 *
 * Every peer must listen on MAILROOM_DELIVERY_PORT, which is one port for the
 * whole Mailroom, while startMxPeer takes any free port on 127.0.0.1. So an
 * extra peer is reached through a forwarder on another loopback address
 * (127.0.0.2, 127.0.0.3, …) at the delivery port: to Mailroom it is another
 * host with its own address, its own connections and its own behaviour.
 */
import net from 'node:net';
import nodemailer from 'nodemailer';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { TestDnsServer } from './dns-server.ts';
import { startMxPeer, type MxBehaviour, type MxPeer, type ReceivedMessage } from './mx-peer.ts';
import type { Store } from '../../src/store/database.ts';
import { getMessage, type MessageView } from '../../src/events/message-log.ts';
import { waitFor } from './wait.ts';

/** The message as the API and CLI show it, once every recipient's status satisfies `done`. */
export function waitForMessage(store: Store, id: string, done: (m: MessageView) => boolean, timeoutMs = 10_000): Promise<MessageView> {
  let last: MessageView | null = null;
  return waitFor(`message ${id} to settle`, async () => {
    last = await getMessage(store, id, null);
    return done(last) ? last : null;
  }, timeoutMs).catch((error: Error) => {
    throw new Error(`${error.message}; last seen: ${JSON.stringify(last)}`);
  });
}

export const statusesOf = (m: MessageView): Record<string, string> => Object.fromEntries(m.recipients.map((r) => [r.address, r.status]));

/** `domain`'s MX (preference 10) is mx.<domain>, whose A record is `ip`. */
export function routeDomainTo(dns: TestDnsServer, domain: string, ip: string): void {
  dns.set(domain, 'MX', { exchange: `mx.${domain}`, priority: 10 });
  dns.set(`mx.${domain}`, 'A', ip);
}

/** The DSNs (null sender) a peer received for `address`. */
export function dsnsTo(peer: MxPeer, address: string): ReceivedMessage[] {
  return peer.received.filter((m) => m.mailFrom === '' && m.rcptTo.some((r) => r.toLowerCase() === address.toLowerCase()));
}

export interface ExtraPeer {
  peer: MxPeer;
  ip: string;
  /** Changes the delay of what the peer says from now on. */
  setLatency(ms: number): void;
  close(): Promise<void>;
}

let nextAddress = 2;
/** A loopback address no other extra peer in this process uses. */
export function freshLoopbackAddress(): string {
  const n = nextAddress++;
  return `127.0.${Math.floor(n / 250)}.${(n % 250) + 2}`;
}

/**
 * A new MX peer reachable at `ip`:`port` (the delivery port). `latencyMs` delays
 * everything the peer says, like a slow link, so deliveries stay in flight a while.
 */
export async function startExtraPeer(port: number, behaviour: MxBehaviour = 'accept', options: { ip?: string; latencyMs?: number } = {}): Promise<ExtraPeer> {
  const ip = options.ip ?? freshLoopbackAddress();
  const peer = await startMxPeer({ behaviour });
  const latency = { ms: options.latencyMs ?? 0 };
  const forwarder = await forward(ip, port, peer.port, latency);
  return {
    peer, ip,
    setLatency(ms) { latency.ms = ms; },
    async close() {
      await forwarder.close();
      await peer.close();
    },
  };
}

async function forward(host: string, port: number, targetPort: number, latency: { ms: number }): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const target = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, target]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => { client.destroy(); target.destroy(); });
    }
    client.pipe(target);
    client.on('close', () => target.destroy());
    // The peer's words reach the client `latency.ms` late, in order even when the latency changes.
    let last = 0;
    const later = (action: () => void) => {
      const due = Math.max(Date.now() + latency.ms, last);
      last = due;
      setTimeout(action, Math.max(0, due - Date.now()));
    };
    target.on('data', (chunk) => later(() => { if (!client.destroyed) client.write(chunk); }));
    target.on('close', () => later(() => client.destroy()));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Header value from a raw message (first occurrence, unfolded). */
export function headerOf(raw: Buffer, name: string): string | undefined {
  const head = raw.toString('utf8').split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ');
  const match = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(head);
  return match?.[1].trim();
}

/**
 * Submits over a few kept-open, logged-in connections: the world's own `send`
 * logs in for every message, which is slow for a burst of them.
 */
export function burstSender(port: number, sender: { email: string; secret: string }) {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1', port, secure: false, ignoreTLS: true, pool: true, maxConnections: 6, maxMessages: Infinity,
    auth: { user: sender.email, pass: sender.secret },
  });
  return {
    async send(message: { to: string | string[]; subject?: string; text?: string }): Promise<string> {
      const info = await transport.sendMail({ from: sender.email, subject: 'Hello', text: 'Hello from the test.', ...message });
      const id = /queued as (\S+)/.exec(info.response)?.[1];
      if (!id) throw new Error(`unexpected reply: ${info.response}`);
      return id;
    },
    close: () => transport.close(),
  };
}

export type SmtpResult = { ok: true; response: string } | { ok: false; responseCode: number; response: string };

/**
 * One SMTP transaction to a Mailroom listener, as a remote MTA would make it
 * (MAIL FROM:<> for reports). A refusal comes back as a value, not an error.
 */
export async function smtpTransaction(port: number, envelope: { from: string; to: string[] }, raw: string | Buffer): Promise<SmtpResult> {
  const conn = new SMTPConnection({ host: '127.0.0.1', port, ignoreTLS: true, name: 'remote-mta.example', logger: false });
  conn.on('error', () => {});
  try {
    await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
    return await new Promise<SmtpResult>((resolve) => {
      conn.send(envelope, raw, (err, info) => {
        if (!err) return resolve({ ok: true, response: info.response });
        const refused = (err as { rejectedErrors?: Array<{ response?: string; responseCode?: number }> }).rejectedErrors?.[0] ?? (err as { response?: string; responseCode?: number });
        resolve({ ok: false, responseCode: refused.responseCode ?? 0, response: (refused.response ?? err.message).trim() });
      });
    });
  } finally {
    conn.quit();
  }
}
