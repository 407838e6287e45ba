/**
 * A scripted receiving mail server for tests: what delivery talks to instead of a real MX.
 *
 * Built on smtp-server on 127.0.0.1 port 0, offering STARTTLS with a throwaway self-signed
 * certificate. Its behaviour can be re-scripted at any moment (defer, reject, stall, no TLS),
 * and it records every message it accepted so tests assert on what actually arrived.
 *
 * Replies are exact: smtp-server by default adds no enhanced status code, so a scripted
 * '451 4.7.1 Try again later' goes out as the error's code (451) plus its message
 * ('4.7.1 Try again later'), byte for byte. (With hideENHANCEDSTATUSCODES off it would prefix
 * its own guess, e.g. 5.1.1 for any 550.) EHLO therefore does not advertise ENHANCEDSTATUSCODES.
 */
import net from 'node:net';
import { generate } from 'selfsigned';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

export interface MxScript {
  /** Per recipient address: answer its first n RCPT attempts (across connections) with `reply`, then accept. */
  deferTimes?: number;
  /** The deferral reply; default '451 4.7.1 Try again later'. */
  reply?: string;
  /** Return a full reply such as '550 5.1.1 User unknown' to refuse a recipient, or null to take it. */
  rejectRcpt?: (address: string) => string | null;
  /** Refuse every message at the end of DATA with this reply, e.g. '554 5.7.1 Message rejected'. */
  rejectData?: string;
  /** Per message, at the end of DATA: a full reply to refuse it with (e.g. a 451), or null to take it. */
  dataReply?: (raw: Buffer, rcptTo: string[]) => string | null;
  /** true: accept the TCP connection but never send the greeting. 'data': take the message, never answer the final dot. */
  stall?: boolean | 'data';
  /** false: STARTTLS is neither advertised nor accepted. Default true. */
  offerTls?: boolean;
}
export type MxBehaviour = 'accept' | MxScript;

export interface ReceivedMessage {
  mailFrom: string;
  rcptTo: string[];
  raw: Buffer;
  /** Whether the session had been upgraded with STARTTLS when the message arrived. */
  tls: boolean;
  at: number;
}

export interface MxPeer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Messages accepted (a 250 after DATA was sent), in arrival order. */
  readonly received: ReceivedMessage[];
  /** Every message that reached the end of DATA, refused ones included, in arrival order. */
  readonly transmitted: ReceivedMessage[];
  /** TCP connections accepted so far, including stalled ones. */
  readonly connections: number;
  /** Replaces the behaviour for commands from now on; deferral counts start again. */
  script(behaviour: MxBehaviour): void;
  /** Resolves with the received messages once there are at least `count`; rejects after timeoutMs. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMessage[]>;
  /** Force-closes every open connection and stops listening. */
  close(): Promise<void>;
}

export interface MxPeerOptions {
  behaviour?: MxBehaviour;
  /** Name in the greeting and EHLO reply. */
  hostname?: string;
  /** The certificate STARTTLS presents; default a throwaway self-signed one for `localhost`. */
  tls?: { key: string; cert: string };
}

const DEFAULT_DEFER_REPLY = '451 4.7.1 Try again later';

export async function startMxPeer(options: MxPeerOptions = {}): Promise<MxPeer> {
  const throwaway = options.tls ? null : await throwawayCertificate();
  const key = options.tls?.key ?? throwaway!.private;
  const cert = options.tls?.cert ?? throwaway!.cert;
  let behaviour: MxScript = {};
  const attempts = new Map<string, number>();
  const received: ReceivedMessage[] = [];
  const transmitted: ReceivedMessage[] = [];
  const waiters = new Set<() => void>();
  const sockets = new Set<net.Socket>();
  let connections = 0;

  function script(next: MxBehaviour): void {
    behaviour = next === 'accept' ? {} : { ...next };
    attempts.clear();
  }
  script(options.behaviour ?? 'accept');

  const server = new SMTPServer({
    name: options.hostname ?? 'mx.test',
    key,
    cert,
    logger: false,
    disableReverseLookup: true,
    authOptional: true,
    onConnect(session, callback) {
      connections++;
      if (behaviour.offerTls === false) session.disabledCommands = ['STARTTLS'];
      if (behaviour.stall === true) return; // never greet: the client's greeting timeout must fire
      callback();
    },
    onRcptTo(address, _session, callback) {
      const refusal = behaviour.rejectRcpt?.(address.address) ?? null;
      if (refusal !== null) return callback(replyError(refusal));
      const key = address.address.toLowerCase();
      const seen = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, seen);
      if (seen <= (behaviour.deferTimes ?? 0)) return callback(replyError(behaviour.reply ?? DEFAULT_DEFER_REPLY));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (behaviour.stall === 'data') return;
        const message = toReceived(session, Buffer.concat(chunks));
        transmitted.push(message);
        if (behaviour.rejectData !== undefined) return callback(replyError(behaviour.rejectData));
        const refusal = behaviour.dataReply?.(message.raw, message.rcptTo) ?? null;
        if (refusal !== null) return callback(replyError(refusal));
        received.push(message);
        for (const wake of waiters) wake();
        callback();
      });
    },
  });
  // A client hanging up mid-session is normal in tests (timeouts, killed processes).
  server.on('error', () => {});
  server.server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((done, fail) => {
    server.server.once('error', fail);
    server.listen(0, '127.0.0.1', () => done());
  });
  const port = (server.server.address() as net.AddressInfo).port;

  return {
    host: '127.0.0.1',
    port,
    received,
    transmitted,
    get connections() {
      return connections;
    },
    script,
    waitFor(count, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (received.length < count) return;
          cleanup();
          resolve(received.slice());
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`mx peer on port ${port}: expected ${count} message(s) within ${timeoutMs}ms, got ${received.length}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/** A loopback port with nothing listening on it, for "connection refused" cases. */
export async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', () => done()));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((done) => probe.close(() => done()));
  return port;
}

/** '550 5.1.1 User unknown' → an error smtp-server sends back as exactly that line. */
function replyError(reply: string): Error & { responseCode: number } {
  const match = /^([2-5]\d\d)[ -]?(.*)$/s.exec(reply.trim());
  if (!match) throw new Error(`mx peer: scripted reply must start with a 3-digit code: ${JSON.stringify(reply)}`);
  return Object.assign(new Error(match[2]), { responseCode: Number(match[1]) });
}

function toReceived(session: SMTPServerSession, raw: Buffer): ReceivedMessage {
  const from = session.envelope.mailFrom;
  return {
    mailFrom: from ? from.address : '',
    rcptTo: session.envelope.rcptTo.map((r) => r.address),
    raw,
    tls: session.secure,
    at: Date.now(),
  };
}

let certificate: Promise<{ private: string; cert: string }> | undefined;

/** Generating an RSA key takes a moment; one certificate serves every peer in the process. */
function throwawayCertificate(): Promise<{ private: string; cert: string }> {
  certificate ??= generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  return certificate;
}
