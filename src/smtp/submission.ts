/**
 * The submission session, command by command: who is logging in, whether
 * they may send as this sender to these recipients, and the durable commit
 * that earns the 250. Decisions come from policy/; words from replies.ts.
 */
import { accountDomainFactsOf } from '../domains/domains.ts';
import type { Logger } from 'pino';
import type { Store } from '../store/database.ts';
import type { Config } from '../config/options.ts';
import type { Enqueuer } from '../queue/enqueue.ts';
import { readKeyUsage, readUsageOf } from '../queue/usage.ts';
import { newId } from '../store/ids.ts';
import { authenticateKey, authoriseEnvelopeSender, authoriseHeaderAuthors, devicePrincipal, identityOf, type Principal } from '../accounts/authorise.ts';
import type { AccountDomainFact } from '../policy/sender.ts';
import type { KeyUseRefusal } from '../policy/key-scope.ts';
import { checkDailyLimit, checkKeyDailyLimit, type UsageFact } from '../policy/limits.ts';
import type { KeyUses } from '../accounts/keys.ts';
import { findSuppressionsOf, normalizeAddress, type Suppression } from '../suppressions/suppressions.ts';
import { ReadBatch } from '../store/read-batch.ts';
import { decodedSubject, headerFromAddresses, headerValue, prependHeaders, readHeaders, rfc5322Date } from '../message/headers.ts';
import { withTraceHeaders } from '../message/trace-headers.ts';
import type { LineLimitHooks, SMTPServerAddress, SMTPServerAuthentication, SMTPServerDataStream, SMTPServerOptions, SMTPServerSession } from './library.ts';
import { checkMessageLines } from '../policy/message-lines.ts';
import { AuthThrottle } from '../accounts/auth-throttle.ts';
import type { Refusal } from '../policy/refusal.ts';
import type { SessionObserver } from './session-observer.ts';
import { readDataStream } from './message-reader.ts';
import { DEVICE_LANE, DEVICE_LOOKUP } from './library.ts';
import { findDeviceForIp } from '../accounts/devices.ts';
import { replyForRefusal } from './refusal-replies.ts';
import { Replies, SmtpReplyError, replyText, type Reply } from './replies.ts';
import { logAccepted } from '../events/accepted-log.ts';

export interface SubmissionDeps {
  config: Config;
  store: Store;
  /** The node's enqueuer, or (on an SMTP session thread) a messenger to it on the main thread. */
  enqueuer: Pick<Enqueuer, 'enqueue'>;
  throttle: AuthThrottle;
  logger: Logger;
  /** Notes how each session went, for the Send-As doctor; memory only on this path, written in batches. */
  recorder?: SessionObserver;
  /** Notes each key's last use, written in bulk: a login waits for no commit. */
  keyUses?: KeyUses;
}

/** What MAIL FROM learned, for RCPT and DATA of the same transaction. */
interface Transaction {
  /** Who sends: the logged-in key's principal, or the device the client address belongs to. */
  principal: Principal;
  domains: AccountDomainFact[];
  usage: UsageFact;
  /** The key's own usage, when the key has a daily limit of its own. */
  keyUsage: UsageFact | null;
}

/** What AUTH answers to a correct key used outside its scope (who logged in is kept as the library's `session.user`). */
function replyForKeyUse(refusal: KeyUseRefusal): Reply {
  switch (refusal.kind) {
    case 'key-expired': return Replies.keyExpired(refusal.at);
    case 'key-wrong-channel': return Replies.keyNotForSmtp();
    case 'key-ip-not-allowed': return Replies.keyIpNotAllowed(refusal.ip, refusal.ranges);
  }
}

type Callback = (error?: Error | null) => void;

const fail = (reply: Reply) => new SmtpReplyError(reply);

export function submissionHandlers(deps: SubmissionDeps, listener: 'submission' | 'submissions'): Partial<SMTPServerOptions> & LineLimitHooks {
  const { config, store, enqueuer, throttle, logger } = deps;
  const transactions = new Map<string, Transaction>();
  // What every MAIL FROM and RCPT TO asks the store, one query per turn for all sessions (store/read-batch.ts).
  const domainsOf = new ReadBatch<string, AccountDomainFact[]>((ids) => accountDomainFactsOf(store, ids), (id) => id, []);
  const usageOf = new ReadBatch<string, UsageFact>((ids) => readUsageOf(store.db, ids, Date.now()), (id) => id, { used: 0, nextRelease: null });
  const suppressionOf = new ReadBatch<{ accountId: string; address: string }, Suppression | null>(
    (pairs) => findSuppressionsOf(store.db, pairs), (pair) => `${pair.accountId} ${normalizeAddress(pair.address)}`, null);
  const alwaysDisabled = ['WIZ', 'SHELL', 'KILL', 'XCLIENT', 'XFORWARD', 'VRFY'];
  const recorder = deps.recorder;
  /** A refusal of the protocol's own (throttle, input limits): one JSON log line with the session, the reason and the reply. */
  const refused = (session: SMTPServerSession, reason: string, reply: Reply) => {
    logger.warn({ event: 'smtp.refused', listener, session: session.id, ip: session.remoteAddress, reason, reply: replyText(reply) }, 'refused');
    return fail(reply);
  };
  const refuse = (session: SMTPServerSession, refusal: Refusal) => {
    recorder?.note(session, { kind: 'refused', refusal });
    return refused(session, refusal.kind === 'forbidden-input' ? refusal.problem : refusal.kind, replyForRefusal(refusal));
  };

  const handlers: Partial<SMTPServerOptions> & LineLimitHooks = {
    // Answered 500 by library.ts, which tells us so the refusal is logged and shown by the doctor.
    onCommandLineTooLong(session, length) {
      const refusal: Refusal = { kind: 'command-line-too-long', length };
      recorder?.note(session, { kind: 'refused', refusal });
      refused(session, 'command-line-too-long', replyForRefusal(refusal));
    },

    // AUTH before TLS (MAILROOM_INSECURE_AUTH=false) is handled in library.ts.
    onConnect(session, callback) {
      (session as { disabledCommands?: string[] }).disabledCommands = alwaysDisabled;
      // A registered device's address may send without AUTH (library.ts lets its MAIL through; onMailFrom decides).
      const marks = session as unknown as Record<symbol, unknown>;
      // Asked only if the client sends mail without logging in (library.ts): a login needs no device read.
      marks[DEVICE_LOOKUP] = () => findDeviceForIp(store, session.remoteAddress).then((device) => {
        if (device) marks[DEVICE_LANE] = true;
      }, (error) => {
        logger.error({ err: error, event: 'smtp.device_lookup_error' }, 'device lookup failed');
      });
      callback();
    },

    onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession, callback) {
      const username = (auth.username ?? '').trim().toLowerCase();
      const ip = session.remoteAddress;
      (async () => {
        // Only this IP's own failures can refuse it: an account under attack from elsewhere never locks.
        const lockedUntil = await throttle.lockedUntil('smtp', ip, username);
        if (lockedUntil) {
          recorder?.note(session, { kind: 'auth-failed', method: auth.method, user: username, reason: 'throttled' });
          return callback(refused(session, 'login-throttled', Replies.authThrottled(lockedUntil)));
        }
        const check = await authenticateKey(store, { secret: auth.password ?? '', email: username, door: 'smtp', ip }, Date.now(), deps.keyUses);
        if (check.ok) {
          const user = check.principal;
          logger.info({ event: 'smtp.auth', listener, ip, account: user.email, method: auth.method, key: user.keyId }, 'login succeeded');
          recorder?.note(session, { kind: 'auth-succeeded', method: auth.method, user: user.email, accountId: user.accountId });
          return callback(null, { user });
        }
        if (check.reason === 'out-of-scope') {
          // The right key used where its scope does not reach: no guess, so no throttle failure.
          recorder?.note(session, { kind: 'auth-failed', method: auth.method, user: username, reason: check.refusal.kind });
          return callback(refused(session, check.refusal.kind, replyForKeyUse(check.refusal)));
        }
        const outcome = await throttle.recordFailure('smtp', ip, username);
        const reply = outcome.lockedUntil ? Replies.authThrottled(outcome.lockedUntil) : Replies.authFailed();
        // The refusal's one log line: session, reason and reply, as every refusal's (see refused()).
        logger.warn({ event: 'smtp.auth_failed', listener, session: session.id, ip, username, reason: check.reason, reply: replyText(reply), accountFailures: outcome.accountFailures, delayMs: outcome.delayMs }, 'login failed');
        if (outcome.alerted) logger.warn({ event: 'auth.failures', account: username, failures: outcome.accountFailures }, `failed logins for ${username} from several addresses; the owner is told`);
        recorder?.note(session, { kind: 'auth-failed', method: auth.method, user: username, reason: outcome.lockedUntil ? 'throttled' : check.reason });
        await AuthThrottle.wait(outcome);
        callback(fail(reply));
      })().catch((error) => {
        logger.error({ err: error, event: 'smtp.auth_error' }, 'login check failed');
        callback(fail(Replies.temporaryFailure()));
      });
    },

    onMailFrom(address: SMTPServerAddress, session: SMTPServerSession, callback: Callback) {
      const now = Date.now();
      (async () => {
        // Not logged in: only a registered device's address may go on (the device lane), as that device.
        const principal = session.user ? session.user as Principal : await devicePrincipal(store, session.remoteAddress);
        if (!principal) return callback(refused(session, 'auth-required', Replies.authRequired()));
        const identity = identityOf(principal);
        const [domains, usage, keyUsage] = await Promise.all([
          domainsOf.read(principal.accountId), usageOf.read(principal.accountId),
          identity && identity.dailyLimit !== null ? readKeyUsage(store.db, identity.id, now) : null,
        ]);
        const verdict = authoriseEnvelopeSender(principal, address.address, domains);
        if (!verdict.ok) return callback(refuse(session, verdict.refusal));
        transactions.set(session.id, { principal, domains, usage, keyUsage });
        callback();
      })().catch((error) => {
        logger.error({ err: error, event: 'smtp.mail_from_error' }, 'sender check failed');
        callback(fail(Replies.temporaryFailure()));
      });
    },

    onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, callback: Callback) {
      const transaction = transactions.get(session.id);
      if (!transaction) return callback(fail(Replies.temporaryFailure()));
      const principal = transaction.principal;
      // A repeated recipient replaces its earlier RCPT (the library dedupes the
      // envelope), so it is neither one more recipient nor one more email.
      const wanted = address.address.toLowerCase();
      const repeated = session.envelope.rcptTo.some((rcpt) => rcpt.address.toLowerCase() === wanted);
      const recipients = session.envelope.rcptTo.length + (repeated ? 0 : 1);
      if (recipients > config.maxRecipients) return callback(refuse(session, { kind: 'too-many-recipients', max: config.maxRecipients }));
      const limit = checkDailyLimit(transaction.usage, recipients, principal.dailyLimit, Date.now());
      if (!limit.ok) return callback(refuse(session, limit.refusal));
      if (transaction.keyUsage && principal.scope.dailyLimit !== null) {
        const keyLimit = checkKeyDailyLimit(transaction.keyUsage, recipients, principal.scope.dailyLimit, Date.now(), identityOf(principal)?.holder);
        if (!keyLimit.ok) return callback(refuse(session, keyLimit.refusal));
      }
      suppressionOf.read({ accountId: principal.accountId, address: address.address }).then((suppression) => {
        if (suppression) {
          return callback(refuse(session, { kind: 'recipient-suppressed', address: suppression.address, reason: suppression.reason, since: suppression.createdAt }));
        }
        callback();
      }, (error) => {
        logger.error({ err: error, event: 'smtp.rcpt_error' }, 'recipient check failed');
        callback(fail(Replies.temporaryFailure()));
      });
    },

    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (error?: Error | null, message?: string) => void) {
      const transaction = transactions.get(session.id);
      readDataStream(stream, config.maxMessageSize).then(async (message) => {
        if (message.tooBig || stream.sizeExceeded) return callback(refuse(session, { kind: 'message-too-big', max: config.maxMessageSize }));
        if (message.bareLineEnding) return callback(refused(session, 'bare-line-ending', Replies.bareLineEnding()));
        // NUL bytes and over-long lines (RFC 5322): refused before anything is queued.
        const lines = checkMessageLines(message.raw);
        if (!lines.ok) return callback(refuse(session, lines.refusal));
        if (!transaction) return callback(fail(Replies.temporaryFailure()));
        const principal = transaction.principal;
        const fields = readHeaders(message.raw);
        const authors = headerFromAddresses(fields);
        const fromCheck = authoriseHeaderAuthors(principal, authors, transaction.domains);
        if (!fromCheck.ok) return callback(refuse(session, fromCheck.refusal));
        const fromAddress = authors![0];
        const id = newId();
        const now = Date.now();
        const received = receivedHeader(session, config.hostname, id, listener, now);
        const result = await enqueuer.enqueue({
          id, accountId: principal.accountId, dailyLimit: principal.dailyLimit, identity: identityOf(principal), mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          headerFrom: fromAddress, subject: decodedSubject(fields), raw: withTraceHeaders(message.raw, fields, { id, hostname: config.hostname, now, received }),
          recipients: session.envelope.rcptTo.map((rcpt) => rcpt.address), source: 'smtp', tags: [],
          clientIp: session.remoteAddress, idempotencyKey: null, sandbox: principal.sandbox,
        });
        if (!result.ok) return callback(refuse(session, result.refusal));
        logAccepted(logger, {
          messageId: result.id, account: principal.email, source: 'smtp', recipients: session.envelope.rcptTo.length, size: message.raw.length, clientIp: session.remoteAddress ?? null,
        });
        recorder?.note(session, { kind: 'accepted' });
        callback(null, replyText(Replies.queued(result.id)));
      }).catch((error) => {
        logger.error({ err: error, event: 'smtp.data_error' }, 'message not accepted');
        callback(fail(Replies.temporaryFailure()));
      }).finally(() => transactions.delete(session.id));
    },

    onClose(session: SMTPServerSession) {
      transactions.delete(session.id);
      recorder?.closed(session, listener);
    },
  };
  return handlers;
}


/** RFC 5321 trace header; the protocol word follows RFC 3848 (ESMTP + S for TLS + A for AUTH). */
function receivedHeader(session: SMTPServerSession, hostname: string, id: string, listener: string, now: number): string {
  const protocol = `ESMTP${session.secure ? 'S' : ''}${session.user ? 'A' : ''}`;
  const helo = (session.hostNameAppearsAs || 'unknown').replace(/[^\x21-\x7e]/g, '');
  const tls = session.secure && session.tlsOptions ? ` (version=${session.tlsOptions.version} cipher=${session.tlsOptions.name})` : '';
  return `Received: from ${helo} ([${session.remoteAddress}])\r\n\tby ${hostname} (Mailroom ${listener}) with ${protocol} id ${id}${tls};\r\n\t${rfc5322Date(now)}`;
}
