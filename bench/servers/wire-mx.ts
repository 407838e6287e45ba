/**
 * Just enough SMTP to take mail fast on loopback: pipelining, no TLS. What each message gets
 * at its final dot is `onMessage`'s to say (it sees the message up to the dot): accepted, or a
 * reply after which the connection is closed, as a provider that throttles does.
 */
import net from 'node:net';

export type MessageVerdict = { accept: true } | { closeWith: string };

export interface WireMx {
  port: number;
  close(): Promise<void>;
}

export async function startWireMx(name: string, onMessage: (message: string) => MessageVerdict): Promise<WireMx> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffer = '';
    let inData = false;
    socket.setEncoding('latin1');
    socket.write(`220 ${name} ESMTP\r\n`);
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const out: string[] = [];
      for (;;) {
        if (inData) {
          const end = buffer.indexOf('\r\n.\r\n');
          if (end === -1) break;
          const verdict = onMessage(buffer.slice(0, end));
          buffer = buffer.slice(end + 5);
          inData = false;
          if ('closeWith' in verdict) {
            socket.end(`${[...out, verdict.closeWith].join('\r\n')}\r\n`);
            return;
          }
          out.push('250 2.0.0 Ok: queued');
          continue;
        }
        const eol = buffer.indexOf('\r\n');
        if (eol === -1) break;
        const verb = buffer.slice(0, 4).toUpperCase();
        buffer = buffer.slice(eol + 2);
        if (verb === 'EHLO') out.push(`250-${name}\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8`);
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
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
