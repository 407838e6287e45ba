/**
 * TLS clients for the certificate tests: they verify the way a strict mail
 * client does (chain to a given root, and the host name), or accept anything
 * to look at what the server presents, and keep the session open for more.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface OpenSession {
  socket: tls.TLSSocket;
  /** Sends a command and resolves with the reply's last line. */
  say(line: string): Promise<string>;
  serial(): string;
  close(): void;
}

export interface TlsClientOptions {
  port: number;
  servername: string;
  /** Trust only this root and verify the name; omit to accept any certificate. */
  ca?: string;
  /** Signature algorithms the client offers (e.g. RSA ones only, as a client that cannot verify ECDSA). */
  sigalgs?: string;
}

/** Implicit TLS (the submissions port): TLS first, then the greeting. */
export async function openImplicitTls(options: TlsClientOptions): Promise<OpenSession> {
  const socket = await handshake(net.connect({ host: '127.0.0.1', port: options.port }), options);
  const session = lineSession(socket);
  await session.next();
  return session.api;
}

/** The STARTTLS port: greeting, EHLO, STARTTLS, then TLS on the same connection. */
export async function openStartTls(options: TlsClientOptions): Promise<OpenSession> {
  const raw = net.connect({ host: '127.0.0.1', port: options.port });
  await new Promise((resolve, reject) => raw.once('connect', resolve).once('error', reject));
  const plain = lineSession(raw);
  await plain.next();
  await plain.api.say('EHLO client.test');
  const ready = await plain.api.say('STARTTLS');
  if (!ready.startsWith('220')) throw new Error(`STARTTLS refused: ${ready}`);
  plain.detach();
  return lineSession(await handshake(raw, options)).api;
}

function handshake(raw: net.Socket, options: TlsClientOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      socket: raw, servername: options.servername, ...(options.sigalgs ? { sigalgs: options.sigalgs } : {}),
      ...(options.ca ? { ca: options.ca, rejectUnauthorized: true } : { rejectUnauthorized: false }),
    });
    socket.once('secureConnect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

function lineSession(socket: net.Socket) {
  let buffer = '';
  let wake: (() => void) | null = null;
  const onData = (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    wake?.();
  };
  socket.on('data', onData);
  const next = async (): Promise<string> => {
    for (;;) {
      const lines = buffer.split('\r\n');
      const end = lines.findIndex((line) => /^\d{3} /.test(line));
      if (end >= 0) {
        buffer = lines.slice(end + 1).join('\r\n');
        return lines[end];
      }
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no reply; got ${JSON.stringify(buffer)}`)), 5000);
        wake = () => {
          clearTimeout(timer);
          wake = null;
          resolve();
        };
      });
    }
  };
  const api: OpenSession = {
    socket: socket as tls.TLSSocket,
    say(line) {
      socket.write(`${line}\r\n`);
      return next();
    },
    serial: () => (socket as tls.TLSSocket).getPeerCertificate().serialNumber,
    close: () => socket.destroy(),
  };
  return { next, api, detach: () => socket.off('data', onData) };
}
