/** What the HTTP server is given by the composition root (src/main.ts). */
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { Config } from '../config/options.ts';
import type { Store } from '../store/database.ts';
import type { DnsResolver } from '../dns/resolver.ts';
import type { Listener } from '../nodes/listener.ts';
import type { Enqueuer } from '../queue/enqueue.ts';
import type { Metrics } from '../events/metrics.ts';
import type { Certificates } from '../tls/certificates.ts';
import type { SessionRecorder } from '../doctor/session-recorder.ts';
import type { AuthThrottle } from '../accounts/auth-throttle.ts';

export interface HttpDeps {
  config: Config;
  store: Store;
  resolver: DnsResolver;
  logger: Logger;
  nodeId: string;
  /** The other listeners of this node, for /healthz and the SMTP settings. */
  listeners: readonly Listener[];
  /** The node's one Enqueuer, shared with SMTP so both join the same group commits. */
  enqueuer: Enqueuer;
  metrics: Metrics;
  /** The certificate this node's TLS listeners serve (null on a node without them: the store's is shown). */
  certificates?: Certificates | null;
  /** The Send-As doctor's session log of this node. */
  smtpSessions?: SessionRecorder;
  /** Failed logins, shared with SMTP (counted apart). */
  throttle: AuthThrottle;
}

/** A fastify instance whose routes infer request types from their TypeBox schemas. */
export type ApiApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;
