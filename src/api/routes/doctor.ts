/**
 * The Send-As doctor over HTTP, for the signed-in account:
 *   GET  /doctor/sessions — recent SMTP sessions and why the failed ones failed
 *   POST /doctor/check    — connect to our listeners as Gmail does, with a pasted key
 * Registered inside the API's authenticated /api/v1 scope, which says who is
 * calling (the same Principal as every other route).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Config } from '../../config/options.ts';
import type { Store } from '../../store/database.ts';
import type { Listener } from '../../nodes/listener.ts';
import { ERRORS } from '../schemas.ts';
import { principalOf } from '../auth.ts';
import { recentSessions } from '../../doctor/sessions.ts';
import { checkSettings, type CheckReport, type Connection } from '../../doctor/check.ts';
import { diagnoseKey, keyDiagnosisWords } from '../../doctor/key-diagnosis.ts';

export interface DoctorRouteOptions {
  store: Store;
  config: Config;
  /** This node's listeners: the ports to check (port 0 in tests is read from them). */
  listeners: readonly Listener[];
  /** Flushed before reading, so sessions this node just had are included. */
  recorder?: { flush(): Promise<void> };
  /** Extra roots the check trusts (a test CA). */
  caCerts?: string;
}

const Problem = Type.Union([Type.Object({ code: Type.String(), words: Type.String() }), Type.Null()]);

const SessionsResponse = Type.Object({
  sessions: Type.Array(Type.Object({
    at: Type.String({ format: 'date-time' }),
    clientIp: Type.String(),
    listener: Type.String({ description: 'submission (plain, STARTTLS offered) or submissions (implicit TLS)' }),
    tls: Type.Union([Type.Object({ version: Type.String(), cipher: Type.Union([Type.String(), Type.Null()]) }), Type.Null()]),
    sni: Type.Union([Type.String(), Type.Null()]),
    auth: Type.Union([Type.Object({ mechanism: Type.String(), user: Type.Union([Type.String(), Type.Null()]) }), Type.Null()]),
    result: Type.Union([Type.Literal('ok'), Type.Literal('failed')]),
    problem: Problem,
    messages: Type.Integer(),
  })),
  tlsFailures: Type.Array(Type.Object({
    at: Type.String({ format: 'date-time' }),
    listener: Type.String(),
    clientIp: Type.Union([Type.String(), Type.Null()], { description: 'shown when that address also logged in to this account' }),
    tlsVersion: Type.Union([Type.String(), Type.Null()]),
    problem: Type.Object({ code: Type.String(), words: Type.String() }),
  }), { description: 'TLS handshakes that failed before any login, so not tied to an account' }),
});

const Step = Type.Object({
  step: Type.String(), status: Type.Union([Type.Literal('passed'), Type.Literal('failed'), Type.Literal('skipped')]),
  words: Type.String(), detail: Type.Optional(Type.String()),
});

const CheckResponse = Type.Object({
  host: Type.String(), email: Type.String(), ok: Type.Boolean(), summary: Type.String(),
  connections: Type.Array(Type.Object({
    port: Type.Integer(), connection: Type.String(), gmailLabel: Type.String(), ok: Type.Boolean(), steps: Type.Array(Step),
  })),
});

const CheckBody = Type.Object({
  key: Type.String({ minLength: 1, maxLength: 500, description: 'the secret key the user pastes into Gmail as the password' }),
  from: Type.Optional(Type.String({ minLength: 3, maxLength: 320, pattern: '^[^\\s<>]+@[^\\s<>]+$', description: 'also check that this sender is allowed' })),
}, { additionalProperties: false });

export const doctorRoutes: FastifyPluginAsync<DoctorRouteOptions> = async (scope, options) => {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const { store, config } = options;

  app.get('/doctor/sessions', {
    schema: { tags: ['doctor'], summary: 'Recent SMTP sessions of the account, and why the failed ones failed', response: { 200: SessionsResponse, ...ERRORS } },
  }, async (request) => {
    const account = principalOf(request);
    await options.recorder?.flush();
    return recentSessions(store, account.accountId, { isAdmin: account.isAdmin });
  });

  app.post('/doctor/check', {
    schema: { tags: ['doctor'], summary: 'Connect to the SMTP listeners as Gmail does (SSL, STARTTLS with a verified certificate, and unsecured; AUTH PLAIN) and report each step', body: CheckBody, response: { 200: CheckResponse, ...ERRORS } },
  }, async (request) => {
    const account = principalOf(request);
    const { key, from } = request.body;
    const local = options.listeners.some((listener) => listener.name.startsWith('submission'));
    const report = await checkSettings({
      host: config.hostname, ports: smtpPorts(options), email: account.email, key: key.trim(), from, caCerts: options.caCerts,
      // With our own listeners on this node, dial them directly; the name is still verified against MAILROOM_HOSTNAME.
      address: local ? loopbackFor(config.smtpHost) : undefined,
    });
    return withKeyDiagnosis(report, await diagnoseKey(store, account.accountId, key));
  });
};

function smtpPorts(options: DoctorRouteOptions): Array<{ port: number; connection: Connection }> {
  const { config, listeners } = options;
  const actual = (configured: number | null, prefix: string) =>
    configured === null ? null : configured !== 0 ? configured : listeners.find((l) => l.name.startsWith(prefix))?.port ?? null;
  const ports: Array<{ port: number; connection: Connection }> = [];
  const implicit = actual(config.smtpsPort, 'submission (implicit');
  if (implicit !== null) ports.push({ port: implicit, connection: 'ssl' });
  const plain = actual(config.smtpPort, 'submission (plain');
  if (plain !== null) ports.push({ port: plain, connection: 'starttls' }, { port: plain, connection: 'unsecured' });
  return ports;
}

function loopbackFor(bindAddress: string): string {
  if (bindAddress === '0.0.0.0' || bindAddress === '') return '127.0.0.1';
  if (bindAddress === '::') return '::1';
  return bindAddress;
}

/** A refused login gets the store's reason added: the SMTP reply alone cannot say "revoked". */
function withKeyDiagnosis(report: CheckReport, diagnosis: Awaited<ReturnType<typeof diagnoseKey>>): CheckReport {
  if (diagnosis.state === 'live') return report;
  for (const connection of report.connections) {
    for (const step of connection.steps) {
      if (step.step === 'auth' && step.status === 'failed') step.words = `${step.words} ${keyDiagnosisWords(diagnosis)}`;
    }
  }
  if (!report.ok && report.connections.some((c) => c.steps.some((s) => s.step === 'auth' && s.status === 'failed'))) {
    report.summary = `${report.summary} ${keyDiagnosisWords(diagnosis)}`;
  }
  return report;
}
