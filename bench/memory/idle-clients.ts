/**
 * A child process that opens many SMTP connections to one node and leaves
 * them idle after EHLO, the way a crowd of mail clients that keep a session
 * open between messages does. Its own process, so its 10,000 sockets (file
 * descriptors, event-loop work) are neither in the bench's process nor on
 * the node's. Connections come from several loopback source addresses so
 * one address's ephemeral ports are never the limit.
 */
import net from 'node:net';

export interface IdleJob {
  host: string;
  port: number;
  count: number;
  /** Source addresses to spread the connections over (127.0.0.2 … on Linux loopback). */
  sources: string[];
}

export type IdleReport =
  | { type: 'holding'; open: number; refused: number; firstRefusal: string | null; seconds: number }
  | { type: 'closed'; droppedByServer: number };

/** Connections being opened at once: enough to open 10,000 in seconds, few enough not to flood the node's accept queue. */
const IN_FLIGHT = 200;
const HANDSHAKE_TIMEOUT_MS = 30_000;

if (process.send) {
  process.once('disconnect', () => process.exit(1));
  process.once('message', (job: IdleJob) => void hold(job));
}

async function hold(job: IdleJob): Promise<void> {
  const started = performance.now();
  const open = new Set<net.Socket>();
  let refused = 0;
  let firstRefusal: string | null = null;
  let droppedByServer = 0;
  let closing = false;
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < job.count; i = next++) {
      try {
        const socket = await session(job, job.sources[i % job.sources.length]);
        open.add(socket);
        socket.once('close', () => {
          if (open.delete(socket) && !closing) droppedByServer++;
        });
      } catch (error) {
        refused++;
        firstRefusal ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  process.send!({ type: 'holding', open: open.size, refused, firstRefusal, seconds: (performance.now() - started) / 1000 } satisfies IdleReport);
  process.once('message', () => {
    closing = true;
    for (const socket of open) socket.destroy();
    process.send!({ type: 'closed', droppedByServer } satisfies IdleReport, () => process.exit(0));
  });
}

/** Connects, reads the greeting, says EHLO and reads its reply; resolves with the idle socket. */
function session(job: IdleJob, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: job.host, port: job.port, localAddress });
    let received = '';
    let step: 'greeting' | 'ehlo' | 'idle' = 'greeting';
    const fail = (why: string) => {
      if (step === 'idle') return;
      clearTimeout(timer);
      socket.destroy();
      reject(new Error(why));
    };
    const timer = setTimeout(() => fail(`no ${step} reply within ${HANDSHAKE_TIMEOUT_MS / 1000} s`), HANDSHAKE_TIMEOUT_MS);
    socket.setEncoding('latin1');
    socket.on('error', (error) => { fail(`${step}: ${error.message}`); socket.destroy(); });
    socket.on('close', () => fail(`${step}: connection closed${received ? ` after ${JSON.stringify(received.trim())}` : ''}`));
    socket.on('data', (chunk: string) => {
      if (step === 'idle') return;
      received += chunk;
      // A reply is complete at a line whose code is followed by a space.
      if (!/^\d{3} [^\n]*\r\n/m.test(received)) return;
      const code = received.slice(0, 3);
      if (step === 'greeting') {
        if (code !== '220') return fail(`greeting: ${received.trim()}`);
        step = 'ehlo';
        received = '';
        socket.write('EHLO idle.bench.client\r\n');
        return;
      }
      if (code !== '250') return fail(`EHLO: ${received.trim()}`);
      clearTimeout(timer);
      step = 'idle';
      resolve(socket);
    });
  });
}
