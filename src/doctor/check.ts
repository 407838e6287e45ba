/**
 * "Check my settings": connects to our SMTP listeners the way Gmail's "Send
 * mail as" does — SSL (implicit TLS) and STARTTLS, the certificate chain and
 * host name verified, and the guide's "Unsecured connection" (AUTH in the
 * clear on the plain port), each with AUTH PLAIN and the key the user pasted —
 * and reports every step in plain words, so the user learns which one Gmail
 * trips on. It logs in but sends nothing.
 */
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { SmtpProbe, type SmtpReply, type HandshakeFacts } from './smtp-probe.ts';

export type Connection = 'ssl' | 'starttls' | 'unsecured';

export interface CheckInput {
  /** The SMTP server name the user types into Gmail; the certificate must be for it. */
  host: string;
  ports: ReadonlyArray<{ port: number; connection: Connection }>;
  email: string;
  key: string;
  /** Extra roots to trust (a test CA); the public roots and NODE_EXTRA_CA_CERTS always count. */
  caCerts?: string | readonly string[];
  /** Where to dial when `host` does not lead to this server from here (our own loopback); default `host`. */
  address?: string;
  /** Also offer this sender with MAIL FROM (then RSET), as Gmail's alias address. */
  from?: string;
  timeoutMs?: number;
}

export type StepName = 'connect' | 'tls' | 'certificate-trusted' | 'name-matches' | 'auth' | 'sender';

export interface StepResult {
  step: StepName;
  status: 'passed' | 'failed' | 'skipped';
  words: string;
  /** The server's reply or the error, verbatim, for whoever wants it. */
  detail?: string;
}

export interface ConnectionCheck {
  port: number;
  connection: Connection;
  /** What Gmail calls this choice. */
  gmailLabel: string;
  ok: boolean;
  steps: StepResult[];
}

export interface CheckReport {
  host: string;
  email: string;
  ok: boolean;
  connections: ConnectionCheck[];
  summary: string;
}

const GMAIL_LABEL: Record<Connection, string> = {
  ssl: 'Secured connection using SSL', starttls: 'Secured connection using TLS', unsecured: 'Unsecured connection',
};
/** Said wherever the unsecured connection is offered. */
export const CLEAR_TEXT_WARNING = 'Warning: on an unsecured connection your secret key crosses the network in clear text; anyone on the path can read it and send as you. Prefer SSL or STARTTLS with a trusted certificate.';
const TLS_STEPS: StepName[] = ['connect', 'tls', 'certificate-trusted', 'name-matches', 'auth', 'sender'];
/** In the clear there is no certificate to judge: the steps are the connection and the login. */
const CLEAR_STEPS: StepName[] = ['connect', 'auth', 'sender'];

export async function checkSettings(input: CheckInput): Promise<CheckReport> {
  // Written into SMTP command lines: a line break would smuggle in a command of the caller's choosing.
  if (/[\r\n<>]/.test(`${input.email}${input.from ?? ''}`)) throw new Error('email and from must be plain addresses');
  const connections: ConnectionCheck[] = [];
  for (const { port, connection } of input.ports) connections.push(await checkConnection(input, port, connection));
  const working = connections.filter((c) => c.ok);
  const failedSecure = connections.find((c) => c.connection !== 'unsecured' && !c.ok);
  const onlyInTheClear = working.length > 0 && working.every((c) => c.connection === 'unsecured') && failedSecure
    ? ` Only in the clear, though: the secured choices fail (${firstFailure(failedSecure)})`
    : '';
  // Encrypted choices are tried and recommended first; "Unsecured" only when nothing else works, with the warning.
  const inClear = working[0]?.connection === 'unsecured' ? ` ${CLEAR_TEXT_WARNING}` : '';
  const summary = working.length > 0
    ? `Gmail can send through ${input.host}: port ${working[0].port} with "${working[0].gmailLabel}", username ${input.email}, your secret key as the password.${onlyInTheClear}${inClear}`
    : connections.length === 0
      ? 'This server has no SMTP submission listener open.'
      : `Gmail would refuse these settings: ${firstFailure(connections[0])}`;
  return { host: input.host, email: input.email, ok: working.length > 0, connections, summary };
}

/** A step that fails stops the walk; later steps are reported as skipped. */
class StepFailed extends Error {}

async function checkConnection(input: CheckInput, port: number, connection: Connection): Promise<ConnectionCheck> {
  const steps: StepResult[] = [];
  const pass = (step: StepName, words: string, detail?: string) => steps.push({ step, status: 'passed', words, ...(detail ? { detail } : {}) });
  const fail = (step: StepName, words: string, detail?: string): never => {
    steps.push({ step, status: 'failed', words, ...(detail ? { detail } : {}) });
    throw new StepFailed(words);
  };
  const address = input.address ?? input.host;
  const timeoutMs = input.timeoutMs ?? 10_000;
  let probe: SmtpProbe | null = null;
  try {
    probe = await SmtpProbe.connect(address, port, timeoutMs).catch((error: Error) =>
      fail('connect', `Could not connect to ${input.host} port ${port}: ${connectWords(error)}`, error.message));
    pass('connect', `Connected to ${input.host} port ${port}.`);
    const session = probe;

    if (connection === 'unsecured') {
      await expect(session.read(), 220, 'auth', 'The server did not greet', fail);
      const ehlo = await expect(session.command('EHLO mailroom-doctor'), 250, 'auth', 'The server refused EHLO', fail);
      if (!ehlo.lines.some((line) => /^AUTH\b.*\bPLAIN\b/i.test(line))) {
        fail('auth', 'This server takes logins only over TLS on this port (MAILROOM_INSECURE_AUTH is off): choose "Secured connection using TLS" in Gmail.');
      }
      await login(session, input, pass, fail);
      await offerSender(session, input, pass, fail);
      return finish(port, connection, steps, input);
    }

    let facts: HandshakeFacts;
    const handshake = () => session.startTls(input.host, input.caCerts).catch((error: Error) =>
      fail('tls', `The TLS handshake failed: ${error.message}.`, error.message));
    if (connection === 'ssl') {
      facts = await handshake();
      await expect(session.read(), 220, 'tls', 'The server did not greet after the TLS handshake', fail);
    } else {
      await expect(session.read(), 220, 'tls', 'The server did not greet', fail);
      const ehlo = await expect(session.command('EHLO mailroom-doctor'), 250, 'tls', 'The server refused EHLO', fail);
      if (!ehlo.lines.some((line) => /^STARTTLS\b/i.test(line))) fail('tls', 'The server does not offer STARTTLS on this port, so "Secured connection using TLS" cannot work here.');
      await expect(session.command('STARTTLS'), 220, 'tls', 'The server refused STARTTLS', fail);
      facts = await handshake();
    }
    pass('tls', `TLS is up (${facts.protocol ?? 'unknown version'}, ${facts.cipher}).`);

    if (facts.authorized) pass('certificate-trusted', `The certificate is signed by ${issuerName(facts.certificate)}, an authority Gmail trusts.`);
    else fail('certificate-trusted', trustWords(facts), facts.authorizationError ?? undefined);

    const mismatch = checkServerIdentity(input.host, facts.certificate);
    if (!mismatch) pass('name-matches', `The certificate is for ${input.host}.`);
    else fail('name-matches', `The certificate is for ${certificateNames(facts.certificate)}, not for ${input.host}: Gmail refuses a certificate for another name.`, mismatch.message);

    await expect(session.command('EHLO mailroom-doctor'), 250, 'auth', 'The server refused EHLO after TLS', fail);
    await login(session, input, pass, fail);
    await offerSender(session, input, pass, fail);
  } catch (error) {
    if (!(error instanceof StepFailed)) throw error;
  } finally {
    probe?.close();
  }
  return finish(port, connection, steps, input);
}

type Pass = (step: StepName, words: string, detail?: string) => void;
type Fail = (step: StepName, words: string, detail?: string) => never;

async function login(session: SmtpProbe, input: CheckInput, pass: Pass, fail: Fail): Promise<void> {
  const credentials = Buffer.from(`\0${input.email}\0${input.key}`).toString('base64');
  const auth = await session.command(`AUTH PLAIN ${credentials}`).catch((error: Error) => fail('auth', `The connection broke during AUTH: ${error.message}.`));
  if (auth.code === 235) pass('auth', `Logged in as ${input.email} with AUTH PLAIN.`);
  else fail('auth', authWords(auth), `${auth.code} ${auth.text}`);
}

async function offerSender(session: SmtpProbe, input: CheckInput, pass: Pass, fail: Fail): Promise<void> {
  if (!input.from) return;
  const sender = await session.command(`MAIL FROM:<${input.from}>`).catch((error: Error) => fail('sender', `The connection broke at MAIL FROM: ${error.message}.`));
  if (sender.code === 250) pass('sender', `Mailroom accepts ${input.from} as the sender.`);
  else fail('sender', `Mailroom refuses ${input.from} as the sender: ${sender.text.replace(/^\d\.\d+\.\d+ /, '')}`, `${sender.code} ${sender.text}`);
  await session.command('RSET').catch(() => {});
}

/** The connection's report: steps not reached are listed as skipped. */
function finish(port: number, connection: Connection, steps: StepResult[], input: CheckInput): ConnectionCheck {
  for (const step of connection === 'unsecured' ? CLEAR_STEPS : TLS_STEPS) {
    if (step === 'sender' && !input.from) continue;
    if (!steps.some((s) => s.step === step)) steps.push({ step, status: 'skipped', words: 'Not tried: an earlier step failed.' });
  }
  return { port, connection, gmailLabel: GMAIL_LABEL[connection], ok: steps.every((s) => s.status === 'passed'), steps };
}

async function expect(reply: Promise<SmtpReply>, code: number, step: StepName, words: string, fail: (step: StepName, words: string, detail?: string) => never): Promise<SmtpReply> {
  const answer = await reply.catch((error: Error) => fail(step, `${words}: ${error.message}.`, error.message));
  if (answer.code !== code) fail(step, `${words}: ${answer.code} ${answer.text}`, `${answer.code} ${answer.text}`);
  return answer;
}

function firstFailure(check: ConnectionCheck): string {
  return check.steps.find((step) => step.status === 'failed')?.words ?? 'unknown reason.';
}

function connectWords(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED': return 'nothing listens there (the listener is off, or the port is wrong).';
    case 'ETIMEDOUT': return 'no answer (a firewall drops the connection).';
    case 'ENOTFOUND': return 'the name does not resolve in DNS.';
    case 'EHOSTUNREACH': case 'ENETUNREACH': return 'the host cannot be reached from here.';
    default: return `${error.message}.`;
  }
}

function trustWords(facts: HandshakeFacts): string {
  switch (facts.authorizationError) {
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return 'The certificate is self-signed: Gmail refuses it. Turn on ACME (MAILROOM_ACME_EMAIL) or install a certificate from a public authority.';
    case 'CERT_HAS_EXPIRED':
      return `The certificate expired on ${new Date(facts.certificate.valid_to).toISOString()}: Gmail refuses it.`;
    case 'CERT_NOT_YET_VALID':
      return `The certificate is not valid before ${new Date(facts.certificate.valid_from).toISOString()}.`;
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
      return `The certificate is signed by ${issuerName(facts.certificate)}, which Gmail does not trust, or the server does not send the intermediate certificate that links it to a trusted authority.`;
    default:
      return `The certificate is not trusted (${facts.authorizationError ?? 'unknown reason'}): Gmail refuses it.`;
  }
}

function authWords(reply: SmtpReply): string {
  if (reply.code === 535) return 'Mailroom refused the username and password: the username must be your account email and the password a live secret key.';
  if (reply.code === 421) return 'Too many failed logins recently: logins from here or for this account are paused for a few minutes.';
  if (reply.code === 538) return 'The server wants TLS before AUTH.';
  if (reply.code === 504 || reply.code === 502) return 'The server does not offer AUTH PLAIN.';
  return `The server refused AUTH: ${reply.code} ${reply.text}`;
}

function issuerName(certificate: PeerCertificate): string {
  const issuer = certificate.issuer ?? {};
  return [issuer.O, issuer.CN].filter(Boolean).join(' / ') || 'an unnamed issuer';
}

function certificateNames(certificate: PeerCertificate): string {
  const names = (certificate.subjectaltname ?? '').split(', ').filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4));
  return names.length > 0 ? names.join(', ') : [certificate.subject?.CN ?? 'an unnamed host'].flat().join(', ');
}
