/**
 * Every setting Mailroom reads, in one table: the environment variable, its
 * default (written as a user would type it, so the table documents itself) and
 * its parser. The matching flag is derived from the variable name
 * (MAILROOM_SMTP_PORT ⇔ --smtp-port).
 */
import { hostname } from 'node:os';
import * as parse from './parse.ts';

interface OptionSpec<T> {
  env: string;
  default: string | (() => string);
  parse: (raw: string) => T;
  help: string;
}

function option<T>(env: string, defaultValue: string | (() => string), parser: (raw: string) => T, help: string): OptionSpec<T> {
  return { env, default: defaultValue, parse: parser, help };
}

export const OPTIONS = {
  databaseUrl: option('MAILROOM_DATABASE_URL', 'sqlite:./data/mailroom.db', parse.parseDatabaseUrl, '`sqlite:PATH` or `postgres://…`'),
  dataDir: option('MAILROOM_DATA_DIR', './data', parse.parseText, 'keys, generated certificate, SQLite file'),
  hostname: option('MAILROOM_HOSTNAME', () => hostname().toLowerCase(), parse.parseHostname, 'greeting, EHLO, Message-ID, DSNs, certificate name'),
  roles: option('MAILROOM_ROLES', 'smtp,http,delivery,mx', parse.parseRoles, 'what this node runs (smtp, http, delivery, mx)'),
  nodeId: option('MAILROOM_NODE_ID', '', parse.parseOptionalText, 'stable node id for leases and logs (default: hostname + data dir)'),
  smtpHost: option('MAILROOM_SMTP_HOST', '0.0.0.0', parse.parseText, 'bind address of every SMTP listener'),
  smtpPort: option('MAILROOM_SMTP_PORT', '2525', parse.parseOptionalPort, 'submission: plain, STARTTLS offered (587 in production)'),
  smtpsPort: option('MAILROOM_SMTPS_PORT', '4650', parse.parseOptionalPort, 'submission over implicit TLS (465 in production); `off` disables'),
  mxPort: option('MAILROOM_MX_PORT', 'off', parse.parseOptionalPort, 'inbound listener for bounces and verification mail (25 in production)'),
  smtpThreads: option('MAILROOM_SMTP_THREADS', '0', parse.parseCount, 'submission sessions run on this many threads sharing the SMTP ports (TLS handshakes on every core); 0 runs them on the main thread. Worth it when TLS handshakes keep the main thread busy and the clients are elsewhere; each thread costs a store connection and its own memory, and on 2 cores shared with the clients it adds CPU per session. The queue writer and delivery stay one per node'),
  mxGreetingDelay: option('MAILROOM_MX_GREETING_DELAY', '100ms', parse.parseOptionalDuration, 'the mx listener waits this long before its greeting and refuses clients that talk first (an early-talker check against spam software); `off` greets at once. Submission listeners always greet at once'),
  httpHost: option('MAILROOM_HTTP_HOST', '0.0.0.0', parse.parseText, 'bind address of the API and dashboard'),
  httpPort: option('MAILROOM_HTTP_PORT', '8025', parse.parseOptionalPort, 'API and dashboard'),
  tlsCert: option('MAILROOM_TLS_CERT', '', parse.parseOptionalText, 'PEM certificate file (default: generated self-signed)'),
  tlsKey: option('MAILROOM_TLS_KEY', '', parse.parseOptionalText, 'PEM private key file'),
  insecureAuth: option('MAILROOM_INSECURE_AUTH', 'auto', parseAutoBoolean, 'AUTH without TLS allowed (the guide\'s "Unsecured connection"); `auto`: on with the generated self-signed certificate, off once a CA-signed one is in use (MAILROOM_TLS_CERT or ACME)'),
  metricsToken: option('MAILROOM_METRICS_TOKEN', '', parse.parseOptionalText, '`GET /metrics` requires `Authorization: Bearer <token>`; unset: it answers loopback clients only'),
  maxMessageSize: option('MAILROOM_MAX_MESSAGE_SIZE', '25MB', parse.parseSize, 'announced in SIZE and enforced'),
  maxRecipients: option('MAILROOM_MAX_RECIPIENTS', '100', parse.parsePositiveInteger, 'recipients per message'),
  defaultDailyLimit: option('MAILROOM_DEFAULT_DAILY_LIMIT', '1000', parse.parsePositiveInteger, 'daily limit of new accounts'),
  authMaxFailures: option('MAILROOM_AUTH_MAX_FAILURES', '10', parse.parsePositiveInteger, 'failed logins (SMTP or dashboard) from one client IP within MAILROOM_AUTH_FAILURE_WINDOW before that IP gets `421 4.7.0` (dashboard: 429) until the window passes'),
  authMaxAccountFailuresPerIp: option('MAILROOM_AUTH_MAX_ACCOUNT_FAILURES_PER_IP', '10', parse.parsePositiveInteger, 'failed logins for one account from one IP within the window before that IP is refused for that account; matters when MAILROOM_AUTH_MAX_FAILURES is raised for relays many users share'),
  authAccountAlert: option('MAILROOM_AUTH_ACCOUNT_ALERT', '10', parse.parsePositiveInteger, 'failed logins for one account from all IPs within the window before further failures are slowed down and the owner is told (`auth.failures` event); never a lock'),
  authFailureWindow: option('MAILROOM_AUTH_FAILURE_WINDOW', '10m', (raw) => atLeast(raw, 1000), 'the window failed logins are counted in, and how long a lock lasts'),
  authMaxDelay: option('MAILROOM_AUTH_MAX_DELAY', '2s', parse.parseDuration, 'the longest wait before refusing a failed login for an account under attack (the wait doubles from 250 ms)'),
  maxScheduleAhead: option('MAILROOM_MAX_SCHEDULE_AHEAD', '3d', (raw) => atLeast(raw, 60_000), 'how far ahead `sendAt` may schedule a message'),
  publicUrl: option('MAILROOM_PUBLIC_URL', '', parsePublicUrl, 'the URL recipients reach the HTTP listener at, for one-click unsubscribe links (default http://MAILROOM_HOSTNAME:MAILROOM_HTTP_PORT; Gmail wants https)'),
  newAccountsSandboxed: option('MAILROOM_NEW_ACCOUNTS_SANDBOXED', 'false', parse.parseBoolean, 'new accounts start in sandbox mode (mail recorded and signed, delivered nowhere) until an administrator lifts it'),
  smtpIdleTimeout: option('MAILROOM_SMTP_IDLE_TIMEOUT', '5m', (raw) => atLeast(raw, 100), 'an idle SMTP client is disconnected after this'),
  smtpMaxClients: option('MAILROOM_SMTP_MAX_CLIENTS', '20000', parse.parsePositiveInteger, 'connections each SMTP listener holds at once (per session thread); the next gets `421 4.4.5` until one closes. Each is a file descriptor: keep the total under the open-file limit (`ulimit -Hn`, which Node raises its own limit to); an idle one costs about 10 KB'),
  dnsServers: option('MAILROOM_DNS_SERVERS', 'system', parse.parseDnsServers, '`ip[:port],…` for MX, A/AAAA and TXT lookups'),
  deliveryPort: option('MAILROOM_DELIVERY_PORT', '25', parse.parsePort, 'port dialled on MX hosts'),
  relayHost: option('MAILROOM_RELAY_HOST', 'off', (raw) => parse.parseOptionalHostPort(raw, 25), '`host:port` smarthost for all outbound mail'),
  relayUser: option('MAILROOM_RELAY_USER', '', parse.parseOptionalText, 'AUTH username for the smarthost'),
  relayPassword: option('MAILROOM_RELAY_PASSWORD', '', parse.parseOptionalText, 'AUTH password for the smarthost'),
  retrySchedule: option('MAILROOM_RETRY_SCHEDULE', '5m,10m,30m,1h,2h,4h,8h,16h', parse.parseDurationList, 'delays between attempts; the last repeats'),
  maxQueueTime: option('MAILROOM_MAX_QUEUE_TIME', '5d', parse.parseDuration, 'after this a deferred delivery bounces'),
  deliveryConcurrency: option('MAILROOM_DELIVERY_CONCURRENCY', '200', parse.parsePositiveInteger, 'deliveries in flight per node, from claim to recorded outcome (MAILROOM_DESTINATION_CONCURRENCY caps the connections)'),
  destinationConcurrency: option('MAILROOM_DESTINATION_CONCURRENCY', '20', parse.parsePositiveInteger, 'connections per MX host at once (as Postfix default_destination_concurrency_limit)'),
  leaseTime: option('MAILROOM_LEASE_TIME', '2m', (raw) => atLeast(raw, 1000), 'a worker that stops heart-beating loses its deliveries after this'),
  heartbeatInterval: option('MAILROOM_HEARTBEAT_INTERVAL', '10s', (raw) => atLeast(raw, 100), 'how often a node tells the others it is alive; after 3 missed beats `nodes list` shows it stale'),
  bodyRetention: option('MAILROOM_BODY_RETENTION', '7d', offOr(parse.parseDuration), 'a message body is deleted this long after its last recipient reached a final state (headers and history stay); `off` keeps bodies'),
  historyRetention: option('MAILROOM_HISTORY_RETENTION', '30d', offOr(parse.parseDuration), 'a finished message, its deliveries, attempts and events are deleted this long after its last recipient reached a final state; `off` keeps them'),
  caughtMailRetention: option('MAILROOM_CAUGHT_MAIL_RETENTION', '7d', (raw) => atLeast(raw, 60_000), 'mail caught for a "receive here" address (e.g. Gmail\'s "Send mail as" confirmation) is kept this long, then deleted by retention'),
  retentionInterval: option('MAILROOM_RETENTION_INTERVAL', '10m', (raw) => atLeast(raw, 1000), 'how often retention runs (one node of a cluster at a time); never touches a queued or deferred message'),
  storageBudget: option('MAILROOM_STORAGE_BUDGET', 'off', offOr(parse.parseSize), 'message bytes each account may hold (queued plus kept by retention); over it new mail gets `452 4.3.1` (API: 429); `off` for no budget'),
  minFreeSpace: option('MAILROOM_MIN_FREE_SPACE', '512MB', offOr(parse.parseSize), 'below this much free space in the data directory new mail is refused with `452 4.3.1` (API: 507) until space returns; `off` disables'),
  shutdownTimeout: option('MAILROOM_SHUTDOWN_TIMEOUT', '20s', parse.parseDuration, 'how long SIGTERM waits for in-flight work'),
  logLevel: option('MAILROOM_LOG_LEVEL', 'info', (raw) => {
    if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(raw)) throw new Error('must be one of fatal, error, warn, info, debug, trace, silent');
    return raw;
  }, 'log level of the JSON logs'),
  logFormat: option('MAILROOM_LOG_FORMAT', 'auto', (raw) => {
    if (!['auto', 'json', 'pretty'].includes(raw)) throw new Error('must be one of auto, json, pretty');
    return raw as 'auto' | 'json' | 'pretty';
  }, '`json` (one object a line), `pretty` (human lines, via pino-pretty) or `auto`: pretty when stdout is a terminal'),
  acmeEmail: option('MAILROOM_ACME_EMAIL', '', parse.parseOptionalText, 'turns ACME on: a certificate for MAILROOM_HOSTNAME is obtained (HTTP-01 on the HTTP listener: forward port 80 to it) and renewed 30 days before expiry'),
  acmeDirectory: option('MAILROOM_ACME_DIRECTORY', 'https://acme-v02.api.letsencrypt.org/directory', parse.parseText, 'ACME directory URL (the client trusts NODE_EXTRA_CA_CERTS)'),
} as const;

/** `auto` (null: settled by loadConfig from other settings) or a boolean. */
function parseAutoBoolean(raw: string): boolean | null {
  if (raw.toLowerCase() === 'auto') return null;
  try {
    return parse.parseBoolean(raw);
  } catch {
    throw new Error('must be auto, true or false');
  }
}

/** `off` (null) or what the parser makes of the value. */
function offOr<T>(parser: (raw: string) => T): (raw: string) => T | null {
  return (raw) => (raw.trim().toLowerCase() === 'off' ? null : parser(raw));
}

/** A duration with a floor: a zero lease or heartbeat would make every node look dead at once. */
function atLeast(raw: string, floorMs: number): number {
  const ms = parse.parseDuration(raw);
  if (ms < floorMs) throw new Error(`must be at least ${floorMs >= 1000 ? `${floorMs / 1000}s` : `${floorMs}ms`}`);
  return ms;
}

export type OptionKey = keyof typeof OPTIONS;

type Parsed = { [K in OptionKey]: ReturnType<(typeof OPTIONS)[K]['parse']> };

/** Settings whose parsed value depends on others, settled by loadConfig. */
interface Settled {
  insecureAuth: boolean;
}

export type Config = Readonly<Omit<Parsed, keyof Settled> & Settled>;

/** `MAILROOM_SMTP_PORT` → `smtp-port`. */
export function flagName(env: string): string {
  return env.replace(/^MAILROOM_/, '').toLowerCase().replaceAll('_', '-');
}

/** An http(s) URL without query or fragment, or '' for none. */
function parsePublicUrl(raw: string): string | null {
  if (raw.trim() === '') return null;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new Error('must be a URL such as https://mail.example.com');
  }
  if (!/^https?:$/.test(url.protocol) || url.search || url.hash) throw new Error('must be an http or https URL without ? or #, such as https://mail.example.com');
  return url.href;
}
