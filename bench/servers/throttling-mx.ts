/**
 * A loopback MX that answers like a rate-limiting provider: once `limit` messages arrived in the
 * last second, the next is refused at the final dot with Gmail's `421 4.7.28` and the
 * connection is closed, as Gmail does. Refused messages count towards the limit (a provider
 * counts what it is sent). `limit(null)` is the site recovering. Minimal SMTP, no TLS.
 */
import net from 'node:net';

export const RATE_LIMITED = '421 4.7.28 [127.0.0.1      15] Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited. a1si123 - gsmtp';

export interface ThrottlingMx {
  port: number;
  accepted: number;
  refused: number;
  limit(perSecond: number | null): void;
  close(): Promise<void>;
}

export async function startThrottlingMx(initialLimit: number | null): Promise<ThrottlingMx> {
  let limit = initialLimit;
  const arrivals: number[] = [];
  const sockets = new Set<net.Socket>();
  const state = { accepted: 0, refused: 0 };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffer = '';
    let inData = false;
    socket.setEncoding('latin1');
    socket.write('220 mx.bench ESMTP\r\n');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const out: string[] = [];
      for (;;) {
        if (inData) {
          const end = buffer.indexOf('\r\n.\r\n');
          if (end === -1) break;
          buffer = buffer.slice(end + 5);
          inData = false;
          const now = Date.now();
          while (arrivals.length > 0 && arrivals[0] <= now - 1000) arrivals.shift();
          arrivals.push(now);
          if (limit !== null && arrivals.length > limit) {
            state.refused++;
            socket.end(`${[...out, RATE_LIMITED].join('\r\n')}\r\n`);
            return;
          }
          state.accepted++;
          out.push('250 2.0.0 Ok: queued');
          continue;
        }
        const eol = buffer.indexOf('\r\n');
        if (eol === -1) break;
        const verb = buffer.slice(0, 4).toUpperCase();
        buffer = buffer.slice(eol + 2);
        if (verb === 'EHLO') out.push('250-mx.bench\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8');
        else if (verb === 'DATA') { out.push('354 End data with <CR><LF>.<CR><LF>'); inData = true; }
        else if (verb === 'QUIT') { socket.end('221 2.0.0 Bye\r\n'); return; }
        else out.push('250 2.0.0 Ok');
      }
      if (out.length > 0) socket.write(`${out.join('\r\n')}\r\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get accepted() { return state.accepted; },
    get refused() { return state.refused; },
    limit(next) { limit = next; },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
