/**
 * The submission session, command by command: who is logging in, whether
 * they may send as this sender to these recipients, and the durable commit
 * that earns the 250. Decisions come from policy/; words from replies.ts.
 */
import { isSandboxed } from '../accounts/sandbox.ts';
import { accountDomainFacts } from '../domains/domains.ts';
import type { Logger } from 'pino';
import type { Store } from '../store/database.ts';
import type { Config } from '../config/options.ts';
import type { Enqueuer } from '../queue/enqueue.ts';
import { readUsage } from '../queue/usage.ts';
import { newId } from '../store/ids.ts';
import { checkSecretKey } from '../accounts/keys.ts';
import { domainOf } from '../accounts/email.ts';
import { checkEnvelopeSender, checkHeaderAuthors, type AccountDomainFact } from '../policy/sender.ts';
import { checkDailyLimit, type UsageFact } from '../policy/limits.ts';
import { findSuppression } from '../suppressions/suppressions.ts';
import { decodedSubject, headerFromAddresses, headerValue, prependHeaders, readHeaders, rfc5322Date } from '../message/headers.ts';
import type { SMTPServerAddress, SMTPServerAuthentication, SMTPServerDataStream, SMTPServerOptions, SMTPServerSession } from './library.ts';
import type { AuthThrottle } from './auth-throttle.ts';
import type { Refusal } from '../policy/refusal.ts';
import type { SessionRecorder } from '../doctor/session-recorder.ts';
import { readMessage } from './message-reader.ts';
import { replyForRefusal } from './refusal-replies.ts';
import { Replies, SmtpReplyError, replyText, type Reply } from './replies.ts';

export interface SubmissionDeps {
  config: Config;
  store: Store;
  enqueuer: Enqueuer;
  throttle: AuthThrottle;
  logger: Logger;
  /** Notes how each session went, for the Send-As doctor; memory only on this path, written in batches. */
  recorder?: SessionRecorder;
}

/** Who logged in; kept as the library's `session.user`. */
export interface Principal {
  accountId: string;
  email: string;
  dailyLimit: number;
  keyId: string;
  /** Sandbox mode (account or key): mail is recorded and signed, delivered nowhere. */
  sandbox: boolean;
}

/** What MAIL FROM learned, for RCPT and DATA of the same transaction. */
interface Transaction {
  domains: AccountDomainFact[];
  usage: UsageFact;
}

type Callback = (error?: Error | null) => void;

const fail = (reply: Reply) => new SmtpReplyError(reply);

export function submissionHandlers(deps: SubmissionDeps, listener: 'submission' | 'submissions'): Partial<SMTPServerOptions> {
  const { config, store, enqueuer, throttle, logger } = deps;
  const transactions = new Map<string, Transaction>();
  const alwaysDisabled = ['WIZ', 'SHELL', 'KILL', 'XCLIENT', 'XFORWARD', 'VRFY'];
  const recorder = deps.recorder;
  const refuse = (session: SMTPServerSession, refusal: Refusal) => {
    recorder?.note(session, { kind: 'refused', refusal });
    return fail(replyForRefusal(refusal));
  };

  return {
    // AUTH before TLS (MAILROOM_INSECURE_AUTH=false) is handled in library.ts.
    onConnect(session, callback) {
      (session as { disabledCommands?: string[] }).disabledCommands = alwaysDisabled;
      callback();
    },

    onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession, callback) {
      const username = (auth.username ?? '').trim().toLowerCase();
      const keys = [`ip:${session.remoteAddress}`, `account:${username}`];
      (async () => {
        const lockedUntil = await throttle.lockedUntil(keys);
        if (lockedUntil) {
          recorder?.note(session, { kind: 'auth-failed', method: auth.method, user: username, reason: 'throttled' });
          return callback(fail(Replies.authThrottled(lockedUntil)));
        }
        const check = await checkSecretKey(store, auth.password ?? '', username);
        if (check.ok) {
          const user: Principal = {
            accountId: check.accountId, email: check.email, dailyLimit: check.dailyLimit, keyId: check.keyId, sandbox: await isSandboxed(store.db, check.accountId, check.keyId),
          };
          logger.info({ event: 'smtp.auth', listener, ip: session.remoteAddress, account: check.email, method: auth.method }, 'login succeeded');
          recorder?.note(session, { kind: 'auth-succeeded', method: auth.method, user: check.email, accountId: check.accountId });
          return callback(null, { user });
        }
        const locked = await throttle.recordFailure(keys);
        logger.warn({ event: 'smtp.auth_failed', listener, ip: session.remoteAddress, username, reason: check.reason }, 'login failed');
        recorder?.note(session, { kind: 'auth-failed', method: auth.method, user: username, reason: check.reason });
        callback(fail(locked ? Replies.authThrottled(locked) : Replies.authFailed()));
      })().catch((error) => {
        logger.error({ err: error, event: 'smtp.auth_error' }, 'login check failed');
        callback(fail(Replies.temporaryFailure()));
      });
    },

    onMailFrom(address: SMTPServerAddress, session: SMTPServerSession, callback: Callback) {
      const principal = session.user as Principal | undefined;
      if (!principal) return callback(fail(Replies.authRequired()));
      const now = Date.now();
      Promise.all([accountDomainFacts(store, principal.accountId), readUsage(store.db, principal.accountId, now)]).then(([domains, usage]) => {
        const verdict = checkEnvelopeSender(address.address, domains);
        if (!verdict.ok) return callback(refuse(session, verdict.refusal));
        transactions.set(session.id, { domains, usage });
        callback();
      }, (error) => {
        logger.error({ err: error, event: 'smtp.mail_from_error' }, 'sender check failed');
        callback(fail(Replies.temporaryFailure()));
      });
    },

    onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, callback: Callback) {
      const principal = session.user as Principal;
      const transaction = transactions.get(session.id);
      if (!transaction) return callback(fail(Replies.temporaryFailure()));
      // A repeated recipient replaces its earlier RCPT (the library dedupes the
      // envelope), so it is neither one more recipient nor one more email.
      const wanted = address.address.toLowerCase();
      const repeated = session.envelope.rcptTo.some((rcpt) => rcpt.address.toLowerCase() === wanted);
      const recipients = session.envelope.rcptTo.length + (repeated ? 0 : 1);
      if (recipients > config.maxRecipients) return callback(fail(Replies.tooManyRecipients(config.maxRecipients)));
      const limit = checkDailyLimit(transaction.usage, recipients, principal.dailyLimit, Date.now());
      if (!limit.ok) return callback(refuse(session, limit.refusal));
      findSuppression(store.db, principal.accountId, address.address).then((suppression) => {
        if (suppression) {
          return callback(fail(Replies.recipientSuppressed(suppression.address, suppression.reason, suppression.createdAt)));
        }
        callback();
      }, (error) => {
        logger.error({ err: error, event: 'smtp.rcpt_error' }, 'recipient check failed');
        callback(fail(Replies.temporaryFailure()));
      });
    },

    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (error?: Error | null, message?: string) => void) {
      const principal = session.user as Principal;
      const transaction = transactions.get(session.id);
      readMessage(stream, config.maxMessageSize).then(async (message) => {
        if (message.tooBig || stream.sizeExceeded) return callback(fail(Replies.messageTooBig(config.maxMessageSize)));
        if (message.bareLineEnding) return callback(fail(Replies.bareLineEnding()));
        if (!transaction) return callback(fail(Replies.temporaryFailure()));
        const fields = readHeaders(message.raw);
        const authors = headerFromAddresses(fields);
        const fromCheck = checkHeaderAuthors(authors ? authors.map(domainOf) : null, transaction.domains);
        if (!fromCheck.ok) return callback(refuse(session, fromCheck.refusal));
        const fromAddress = authors![0];
        const id = newId();
        const now = Date.now();
        const added = [receivedHeader(session, config.hostname, id, listener, now)];
        if (!headerValue(fields, 'message-id')) added.push(`Message-ID: <${id}@${config.hostname}>`);
        if (!headerValue(fields, 'date')) added.push(`Date: ${rfc5322Date(now)}`);
        const result = await enqueuer.enqueue({
          id, accountId: principal.accountId, dailyLimit: principal.dailyLimit, mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          headerFrom: fromAddress, subject: decodedSubject(fields), raw: prependHeaders(message.raw, added),
          recipients: session.envelope.rcptTo.map((rcpt) => rcpt.address), source: 'smtp', tags: [],
          clientIp: session.remoteAddress, idempotencyKey: null, sandbox: principal.sandbox,
        });
        if (!result.ok) return callback(refuse(session, result.refusal));
        logger.info({ event: 'message.accepted', messageId: result.id, account: principal.email, recipients: session.envelope.rcptTo.length, size: message.raw.length }, 'message queued');
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
}


/** RFC 5321 trace header; the protocol word follows RFC 3848 (ESMTP + S for TLS + A for AUTH). */
function receivedHeader(session: SMTPServerSession, hostname: string, id: string, listener: string, now: number): string {
  const protocol = `ESMTP${session.secure ? 'S' : ''}${session.user ? 'A' : ''}`;
  const helo = (session.hostNameAppearsAs || 'unknown').replace(/[^\x21-\x7e]/g, '');
  const tls = session.secure && session.tlsOptions ? ` (version=${session.tlsOptions.version} cipher=${session.tlsOptions.name})` : '';
  return `Received: from ${helo} ([${session.remoteAddress}])\r\n\tby ${hostname} (Mailroom ${listener}) with ${protocol} id ${id}${tls};\r\n\t${rfc5322Date(now)}`;
}
