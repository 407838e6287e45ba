/**
 * What this machine can do for TLS handshakes alone, server and client
 * together, with no SMTP: a bare node:tls server (this process, or N
 * threads sharing the port) and a client process with C concurrent loops
 * that each connect, finish the handshake, read one byte and close. It is
 * the ceiling of any STARTTLS session-per-message figure measured with the
 * load generator on the same cores, and prints the CPU each side spent per
 * handshake, because on a 2-core machine the client's half costs as much
 * as the server's.
 *
 *   node bench/tools/tls-handshakes.ts [--key ecdsa|rsa|both] [--resume] [--clients 50] [--seconds 5] [--threads 0]
 *
 * --resume: each client loop offers the session of its previous handshake
 * (a TLS 1.3 ticket), as a mail client that reconnects does.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTlsCredentials, secureContextOptions, type TlsCredentials } from '../../src/tls/credentials.ts';

interface ServerData { key: string[]; cert: string[]; ticketKeys: Uint8Array; port: number }
interface ClientJob { port: number; clients: number; seconds: number; resume: boolean }
interface ClientResult { handshakes: number; resumed: number; cpuMicros: number; errors: number; protocol: string | null; signature: string | null }

function serve(data: ServerData, port: number): Promise<tls.Server> {
  const server = tls.createServer({ key: data.key, cert: data.cert, ticketKeys: Buffer.from(data.ticketKeys) }, (socket) => {
    socket.on('error', () => {});
    socket.end('x');
  });
  return new Promise((resolve) => server.listen({ port, host: '127.0.0.1', reusePort: true }, () => resolve(server)));
}

async function runClients(job: ClientJob): Promise<ClientResult> {
  const result: ClientResult = { handshakes: 0, resumed: 0, cpuMicros: 0, errors: 0, protocol: null, signature: null };
  const until = performance.now() + job.seconds * 1000;
  const before = process.cpuUsage();
  // One context for every connection, as a long-running client keeps it: a context per connection costs more than the handshake.
  const secureContext = tls.createSecureContext({});
  const loop = async () => {
    let session: Buffer | undefined;
    while (performance.now() < until) {
      await new Promise<void>((resolve) => {
        const socket = tls.connect({ port: job.port, host: '127.0.0.1', rejectUnauthorized: false, secureContext, session: job.resume ? session : undefined, servername: 'localhost' });
        socket.on('session', (ticket: Buffer) => { session = ticket; });
        socket.once('secureConnect', () => {
          result.handshakes += 1;
          if (socket.isSessionReused()) result.resumed += 1;
          result.protocol ??= socket.getProtocol();
          result.signature ??= socket.getPeerCertificate().pubkey ? (socket.getPeerX509Certificate()?.publicKey.asymmetricKeyType ?? null) : null;
        });
        socket.once('data', () => socket.end());
        socket.once('close', () => resolve());
        socket.once('error', () => { result.errors += 1; resolve(); });
      });
    }
  };
  await Promise.all(Array.from({ length: job.clients }, loop));
  const used = process.cpuUsage(before);
  result.cpuMicros = used.user + used.system;
  return result;
}

if (!isMainThread) {
  await serve(workerData as ServerData, (workerData as ServerData).port);
  parentPort!.postMessage('listening');
} else if (process.send) {
  process.once('message', (job: ClientJob) => {
    void runClients(job).then((result) => process.send!(result, () => process.exit(0)));
  });
} else {
  const { values } = parseArgs({
    options: {
      key: { type: 'string', default: 'both' },
      resume: { type: 'boolean', default: false },
      clients: { type: 'string', default: '50' },
      seconds: { type: 'string', default: '5' },
      threads: { type: 'string', default: '0' },
    },
  });
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-tls-'));
  const credentials = await loadTlsCredentials({ certFile: null, keyFile: null, dataDir: dir, hostname: 'localhost' });
  rmSync(dir, { recursive: true, force: true });
  const only = (which: string): TlsCredentials => which === 'rsa' ? { ...credentials, alternatives: [] } : which === 'ecdsa' ? { ...credentials.alternatives![0], selfSigned: true } : credentials;
  const { key, cert } = secureContextOptions(only(values.key));
  const data: ServerData = { key, cert, ticketKeys: randomBytes(48), port: 0 };
  const threads = Number(values.threads);
  const server = await serve(data, 0);
  const port = (server.address() as { port: number }).port;
  const workers: Worker[] = [];
  for (let i = 0; i < threads; i++) {
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { ...data, port } });
    await new Promise((resolve) => worker.once('message', resolve));
    workers.push(worker);
  }
  // With threads the main thread stops accepting, so only the threads take handshakes.
  if (threads > 0) server.close();
  const child = fork(fileURLToPath(import.meta.url), [], { stdio: 'inherit' });
  const seconds = Number(values.seconds);
  const before = process.cpuUsage();
  const startedAt = performance.now();
  child.send({ port, clients: Number(values.clients), seconds, resume: values.resume } satisfies ClientJob);
  const result = await new Promise<ClientResult>((resolve) => child.once('message', (r) => resolve(r as ClientResult)));
  const elapsed = (performance.now() - startedAt) / 1000;
  const serverUsed = process.cpuUsage(before);
  const serverMicros = serverUsed.user + serverUsed.system;
  const rate = result.handshakes / elapsed;
  console.log(`key ${values.key}, ${values.resume ? 'resuming' : 'full handshakes'}, ${values.clients} clients, server ${threads > 0 ? `${threads} thread(s)` : 'main thread'}: negotiated ${result.protocol} with a ${result.signature} certificate`);
  console.log(`${rate.toFixed(0)} handshakes/s (${result.resumed} of ${result.handshakes} resumed, ${result.errors} errors); CPU per handshake: server ${(serverMicros / result.handshakes).toFixed(0)} µs, client ${(result.cpuMicros / result.handshakes).toFixed(0)} µs`);
  await Promise.all(workers.map((w) => w.terminate()));
  server.close();
}
