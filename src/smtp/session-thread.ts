/**
 * An SMTP session thread (a worker_threads entry point, see
 * session-threads.ts): the submission listeners on ports it shares with the
 * other session threads (reusePort: the kernel spreads new connections over
 * them), so TLS handshakes and SMTP parsing run on every core. It reads the
 * store through a connection of its own; what must be written goes to the
 * main thread, which keeps the node's one queue writer: messages (the 250
 * waits for the main thread's commit), the login throttle's counters, the
 * doctor's session notes and keys' last use.
 */
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { openStore } from '../store/database.ts';
import type { EnqueueResult, Submission } from '../queue/enqueue.ts';
import type { ObservedSession, SessionObserver } from './session-observer.ts';
import { AuthThrottle, authThrottlePolicy } from '../accounts/auth-throttle.ts';
import type { QueueWriter } from '../queue/writer.ts';
import type { AccountWrites } from '../accounts/account-writes.ts';
import { startSubmissionListeners } from './listeners.ts';
import type { Listener } from '../nodes/listener.ts';
import type { Ports, SessionFacts, SessionThreadData, TlsErrorFacts, ToMain, ToThread } from './session-thread-protocol.ts';

const port = parentPort!;
const { config, tls, ticketKeys } = workerData as SessionThreadData;

// Notes to the main thread made in one turn of the event loop cross in one message.
let outbox: ToMain[] = [];
function tell(message: ToMain): void {
  if (outbox.push(message) === 1) {
    setImmediate(() => {
      const batch = outbox;
      outbox = [];
      port.postMessage(batch);
    });
  }
}

function facts(session: ObservedSession): SessionFacts {
  return {
    id: session.id, remoteAddress: session.remoteAddress, secure: session.secure, tlsOptions: session.tlsOptions,
    servername: session.servername, hostNameAppearsAs: session.hostNameAppearsAs, user: session.user ? true : false,
  };
}

const waiting = new Map<number, { resolve: (result: never) => void; reject: (error: Error) => void }>();
let seq = 0;
const enqueuer = {
  enqueue(submission: Submission): Promise<EnqueueResult> {
    return new Promise((resolve, reject) => {
      seq += 1;
      waiting.set(seq, { resolve, reject });
      tell({ type: 'enqueue', seq, submission });
    });
  },
};

/** The main thread's queue writer, asked over the port (no commit on this thread, no wait for SQLite's write lock). */
const writer: QueueWriter<AccountWrites> = {
  run(name, args) {
    return new Promise((resolve, reject) => {
      seq += 1;
      waiting.set(seq, { resolve, reject });
      tell({ type: 'write', seq, name, args });
    });
  },
  close: async () => {},
};

const recorder: SessionObserver = {
  note: (session, event) => tell({ type: 'note', session: facts(session), event }),
  closed: (session, listener) => tell({ type: 'closed', session: facts(session), listener }),
  watchTlsErrors(server, listener) {
    server.on('error', (error) => {
      const raw = error as Error & Omit<TlsErrorFacts, 'message'>;
      if (raw.meta?.stage !== 'connect') return;
      tell({ type: 'tls-error', listener, error: { message: raw.message, code: raw.code, remoteAddress: raw.remoteAddress, meta: raw.meta && { ...raw.meta } } });
    });
  },
};

const keyUses = { used: (keyId: string, at: number, ip: string | null) => tell({ type: 'key-used', keyId, at, ip }) };

let listeners: Listener[] = [];
const fail = (error: unknown) => port.postMessage([{ type: 'failed', error: (error as Error).stack ?? String(error) }] satisfies ToMain[]);
try {
  const store = await openStore(config.databaseUrl);
  const logger = pino({ level: config.logLevel, base: { node: config.nodeId ?? undefined, thread: 'smtp' } });
  const throttle = new AuthThrottle(store, writer, authThrottlePolicy(config));
  // Loaded and connected: the main thread now says which ports (the first thread picks them, the others join).
  port.postMessage([{ type: 'loaded' }] satisfies ToMain[]);
  const listen = async (ports: Ports) => {
    const threadConfig = { ...config, smtpPort: ports.submission, smtpsPort: ports.submissions };
    listeners = await startSubmissionListeners(threadConfig, tls, {
      config: threadConfig, store, enqueuer, throttle, logger, recorder, keyUses,
    }, { reusePort: true, ticketKeys: Buffer.from(ticketKeys) });
    const portOf = (prefix: string) => listeners.find((l) => l.name.startsWith(prefix))?.port ?? null;
    port.postMessage([{ type: 'ready', ports: { submission: portOf('submission (plain'), submissions: portOf('submission (implicit') } }] satisfies ToMain[]);
  };
  port.on('message', (message: ToThread) => {
    switch (message.type) {
      case 'listen':
        listen(message.ports).catch(fail);
        break;
      case 'enqueued':
      case 'written':
      case 'enqueue-failed':
      case 'write-failed': {
        const pending = waiting.get(message.seq);
        waiting.delete(message.seq);
        if (message.type === 'enqueued' || message.type === 'written') pending?.resolve(message.result as never);
        else pending?.reject(new Error(message.error));
        break;
      }
      case 'certificate':
        for (const listener of listeners) void listener.setCertificate?.(message.tls);
        port.postMessage([{ type: 'certificate-set', seq: message.seq }] satisfies ToMain[]);
        break;
      case 'stop':
        void Promise.all(listeners.map((listener) => listener.close()))
          .finally(() => store.close())
          .finally(() => port.postMessage([{ type: 'stopped' }] satisfies ToMain[]));
        break;
    }
  });
} catch (error) {
  fail(error);
}
