/**
 * SMTP sessions on several threads (MAILROOM_SMTP_THREADS): each thread
 * (session-thread.ts) runs the submission listeners on the same ports with
 * SO_REUSEPORT, and the kernel spreads new connections over them, so TLS
 * handshakes and SMTP parsing of many short sessions use every core. The
 * node keeps one queue writer and one delivery engine on the main thread:
 * the threads hand it each message (and answer 250 only after its commit),
 * the doctor's session notes and keys' last use.
 *
 * The threads load and connect to the store together; then the first binds
 * the configured ports (port 0 picks free ones) and the others join them.
 */
import { Worker } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Config } from '../config/options.ts';
import type { QueueWriter } from '../queue/writer.ts';
import type { AccountWrites } from '../accounts/account-writes.ts';
import type { Enqueuer } from '../queue/enqueue.ts';
import type { SessionObserver } from './session-observer.ts';
import type { KeyUses } from '../accounts/keys.ts';
import type { Listener } from '../nodes/listener.ts';
import type { TlsCredentials } from '../tls/credentials.ts';
import type { Ports, SessionThreadData, ToMain, ToThread } from './session-thread-protocol.ts';

export interface SessionThreadDeps {
  enqueuer: Pick<Enqueuer, 'enqueue'>;
  /** The node's one queue writer: the threads' writes (the login throttle's counters) go through it too. */
  writer: QueueWriter<AccountWrites>;
  recorder: SessionObserver;
  keyUses: KeyUses;
  logger: Logger;
}

const THREAD = new URL('./session-thread.ts', import.meta.url);
const START_TIMEOUT_MS = 60_000;

export async function startSessionThreads(config: Config, tls: TlsCredentials, threads: number, deps: SessionThreadDeps): Promise<Listener[]> {
  // The recorder watches an emitter per listener for failed handshakes, as it watches a server.
  const tlsErrors = new Map<string, EventEmitter>();
  for (const name of ['submission', 'submissions']) {
    const emitter = new EventEmitter();
    tlsErrors.set(name, emitter);
    deps.recorder.watchTlsErrors(emitter, name);
  }
  const ticketKeys = randomBytes(48);
  const started = Array.from({ length: threads }, (_, i) => startThread(config, tls, ticketKeys, deps, tlsErrors, i));
  const workers = started.map((s) => s.worker);
  let ports: Ports = { submission: config.smtpPort, submissions: config.smtpsPort };
  let timer: NodeJS.Timeout | undefined;
  // A thread that never answers must stop the start with an error, not hang it.
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`SMTP session threads did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
  });
  try {
    await Promise.race([deadline, (async () => {
      await Promise.all(started.map((s) => s.loaded));
      ports = await started[0].listen(ports);
      const joined = ports;
      await Promise.all(started.slice(1).map((s) => s.listen(joined)));
    })()]);
  } catch (error) {
    await Promise.all(workers.map((worker) => worker.terminate()));
    throw error;
  } finally {
    clearTimeout(timer);
  }

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= Promise.all(workers.map((worker) => new Promise<void>((resolve) => {
      const timer = setTimeout(() => void worker.terminate().then(() => resolve()), config.shutdownTimeout + 5000);
      worker.on('message', (batch: ToMain[]) => {
        if (batch.some((m) => m.type === 'stopped')) {
          clearTimeout(timer);
          void worker.terminate().then(() => resolve());
        }
      });
      worker.once('exit', () => { clearTimeout(timer); resolve(); });
      worker.postMessage({ type: 'stop' } satisfies ToThread);
    }))).then(() => undefined);
    return stopping;
  };
  let certificateSeq = 0;
  const setCertificate = (credentials: TlsCredentials) => {
    certificateSeq += 1;
    const seq = certificateSeq;
    // Resolves once every thread presents it to new handshakes.
    return Promise.all(workers.map((worker) => new Promise<void>((resolve) => {
      const onMessage = (batch: ToMain[]) => {
        if (!batch.some((m) => m.type === 'certificate-set' && m.seq === seq)) return;
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        resolve();
      };
      const onExit = () => { worker.off('message', onMessage); resolve(); };
      worker.on('message', onMessage);
      worker.once('exit', onExit);
      worker.postMessage({ type: 'certificate', seq, tls: credentials } satisfies ToThread);
    }))).then(() => undefined);
  };
  const listeners: Listener[] = [];
  const suffix = ` on ${threads} thread${threads === 1 ? '' : 's'}`;
  if (ports.submission !== null) listeners.push({ name: `submission (plain, STARTTLS offered)${suffix}`, host: config.smtpHost, port: ports.submission, close: stop, setCertificate });
  // Only one of them forwards certificates, or each thread would get every change twice.
  if (ports.submissions !== null) listeners.push({ name: `submission (implicit TLS)${suffix}`, host: config.smtpHost, port: ports.submissions, close: stop, setCertificate: ports.submission === null ? setCertificate : undefined });
  return listeners;
}

interface StartedThread {
  worker: Worker;
  /** Resolves once the thread has loaded and opened its store. */
  loaded: Promise<void>;
  /** Starts its listeners on these ports; resolves with the ports they got. */
  listen(ports: Ports): Promise<Ports>;
}

function startThread(config: Config, tls: TlsCredentials, ticketKeys: Buffer, deps: SessionThreadDeps, tlsErrors: Map<string, EventEmitter>, index: number): StartedThread {
  const data: SessionThreadData = { config, tls, ticketKeys };
  const worker = new Worker(THREAD, { workerData: data, name: `mailroom-smtp-${index + 1}` });
  const send = (message: ToThread) => worker.postMessage(message);
  // One step at a time is awaited: loading, then listening.
  let settle: { resolve: (value: never) => void; reject: (error: Error) => void } | null = null;
  const step = <T>() => new Promise<T>((resolve, reject) => { settle = { resolve: resolve as (value: never) => void, reject }; });
  const loaded = step<void>();
  worker.on('message', (batch: ToMain[]) => {
    for (const message of batch) {
      switch (message.type) {
        case 'loaded': settle?.resolve(undefined as never); settle = null; break;
        case 'ready': settle?.resolve(message.ports as never); settle = null; break;
        case 'failed': settle?.reject(new Error(`SMTP session thread ${index + 1} did not start: ${message.error}`)); settle = null; break;
        case 'enqueue': {
          const { seq } = message;
          const submission = { ...message.submission, raw: Buffer.from(message.submission.raw.buffer, message.submission.raw.byteOffset, message.submission.raw.byteLength) };
          deps.enqueuer.enqueue(submission).then(
            (result) => send({ type: 'enqueued', seq, result }),
            (error: Error) => send({ type: 'enqueue-failed', seq, error: error.message }),
          );
          break;
        }
        case 'write': {
          const { seq } = message;
          deps.writer.run(message.name, message.args as never).then(
            (result) => send({ type: 'written', seq, result }),
            (error: Error) => send({ type: 'write-failed', seq, error: error.message }),
          );
          break;
        }
        case 'note': deps.recorder.note(message.session, message.event); break;
        case 'closed': deps.recorder.closed(message.session, message.listener); break;
        case 'tls-error': tlsErrors.get(message.listener)?.emit('error', Object.assign(new Error(message.error.message), message.error)); break;
        case 'key-used': deps.keyUses.used(message.keyId, message.at, message.ip); break;
        case 'certificate-set':
        case 'stopped': break;
      }
    }
  });
  worker.on('error', (error) => {
    deps.logger.error({ err: error, event: 'smtp.thread_failed', thread: index + 1 }, `SMTP session thread ${index + 1} failed: ${error.message}`);
    settle?.reject(error);
  });
  worker.on('exit', (code) => settle?.reject(new Error(`SMTP session thread ${index + 1} exited (code ${code}) before it was ready`)));
  return {
    worker, loaded,
    listen(ports) {
      const ready = step<Ports>();
      send({ type: 'listen', ports });
      return ready;
    },
  };
}
