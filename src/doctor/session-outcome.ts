/**
 * How an SMTP session ended, as a value, and the one place that says it in
 * plain words for the Send-As doctor. The switch is exhaustive over policy's
 * Refusal too, so a new refusal kind does not compile until the doctor can
 * explain it.
 */
import type { Refusal } from '../policy/refusal.ts';
import { describeSenders } from '../policy/key-scope.ts';
import type { AuthFailure } from '../smtp/session-observer.ts';
import { TLS_ABANDONED_WORDS, explainTlsError } from './tls-errors.ts';

export type SessionOutcome =
  | { kind: 'ok' }
  | { kind: 'auth-failed'; reason: AuthFailure }
  | { kind: 'refused'; refusal: Refusal }
  | { kind: 'tls-failed'; code: string | null; message: string }
  | { kind: 'tls-abandoned' };

/** Stable codes for programs; the words are for people. */
export type ProblemCode =
  | AuthFailure
  | 'null-sender' | 'domain-not-added' | 'domain-not-verified' | 'from-not-allowed' | 'missing-from'
  | 'limit-reached' | 'key-limit-reached' | 'sender-outside-key-scope' | 'recipient-suppressed' | 'too-many-recipients' | 'message-too-big'
  | 'forbidden-input' | 'command-line-too-long' | 'storage-budget' | 'disk-space-low'
  | 'tls-handshake' | 'tls-abandoned';

export interface Problem {
  code: ProblemCode;
  words: string;
}

const at = (time: number) => new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function explainOutcome(outcome: SessionOutcome): Problem | null {
  switch (outcome.kind) {
    case 'ok': return null;
    case 'auth-failed': return explainAuthFailure(outcome.reason);
    case 'refused': return explainRefusal(outcome.refusal);
    case 'tls-failed': return { code: 'tls-handshake', words: explainTlsError(outcome.code, outcome.message) };
    case 'tls-abandoned': return { code: 'tls-abandoned', words: TLS_ABANDONED_WORDS };
  }
}

function explainAuthFailure(reason: AuthFailure): Problem {
  switch (reason) {
    case 'wrong-key':
      return { code: reason, words: 'Wrong password: it is not a secret key of this account. The password is a secret key (Profile → Secret keys), the username your account email.' };
    case 'revoked-key':
      return { code: reason, words: 'The secret key used as the password has been revoked. Create a new key and paste it into the client as the password.' };
    case 'unknown-account':
      return { code: reason, words: 'No account has this username. The username is your account email address.' };
    case 'throttled':
      return { code: reason, words: 'Too many failed logins from this address (for any account, or for this one): logins from it are refused until the failure window passes (MAILROOM_AUTH_FAILURE_WINDOW, 10 minutes unless changed). Fix the password in the client, then wait. Other addresses are not affected.' };
    case 'key-expired':
      return { code: reason, words: 'The secret key used as the password has expired. Create a new key and paste it into the client as the password.' };
    case 'key-wrong-channel':
      return { code: reason, words: 'The secret key used as the password may send only over the HTTP API. Use a key whose channel includes SMTP.' };
    case 'key-ip-not-allowed':
      return { code: reason, words: "The secret key used as the password may be used only from certain client addresses (its IP ranges), and this client's is not one of them." };
  }
}

function explainRefusal(refusal: Refusal): Problem {
  switch (refusal.kind) {
    case 'null-sender':
      return { code: 'null-sender', words: 'The client sent an empty sender (MAIL FROM:<>); send from an address on your verified domain.' };
    case 'sender-domain-not-added':
      return { code: 'domain-not-added', words: `The sender domain ${refusal.domain} is not a domain of your account: add it under Settings → Domains and publish its DNS records.` };
    case 'sender-domain-not-verified':
      return { code: 'domain-not-verified', words: `The sender domain ${refusal.domain} is not verified yet: publish its DNS records and press Verify under Settings → Domains.` };
    case 'header-from-not-allowed':
      return { code: 'from-not-allowed', words: `The From address is on ${refusal.domain}, which is not a verified domain of your account.` };
    case 'missing-header-from':
      return { code: 'missing-from', words: 'The message had no valid From header.' };
    case 'daily-limit':
      return { code: 'limit-reached', words: `The daily sending limit of ${refusal.limit} emails was reached; it resets at ${at(refusal.resetsAt)}.` };
    case 'sender-outside-key-scope':
      return { code: 'sender-outside-key-scope', words: refusal.holder === 'key'
        ? `The secret key may send only as ${describeSenders(refusal.allowed)}; ${refusal.address} is outside its scope. Use another key or widen this one's senders.`
        : `This device (sending without logging in) may send only as ${describeSenders(refusal.allowed)}; ${refusal.address} is outside its scope. Log in with a secret key to send as it.` };
    case 'key-daily-limit':
      return { code: 'key-limit-reached', words: `The ${refusal.holder === 'key' ? 'secret key' : 'device'}'s own daily limit of ${refusal.limit} emails was reached; it resets at ${at(refusal.resetsAt)}.` };
    case 'recipient-suppressed':
      return { code: 'recipient-suppressed', words: `The recipient ${refusal.address} is suppressed (${refusal.reason}) since ${at(refusal.since)}; remove the suppression to send again.` };
    case 'too-many-recipients':
      return { code: 'too-many-recipients', words: `Too many recipients: at most ${refusal.max} per message.` };
    case 'message-too-big':
      return { code: 'message-too-big', words: `The message was larger than the limit of ${refusal.max} bytes.` };
    case 'forbidden-input': {
      const what = refusal.problem === 'nul-byte' ? `a NUL byte (line ${refusal.line})`
        : `a ${refusal.problem === 'header-line-too-long' ? 'header' : 'body'} line of ${refusal.length} octets (line ${refusal.line}; at most 998 are allowed)`;
      return { code: 'forbidden-input', words: `The message was refused: it contained ${what}, which RFC 5322 forbids. The client must encode it (quoted-printable or base64).` };
    }
    case 'command-line-too-long':
      return { code: 'command-line-too-long', words: `The client sent a command line of ${refusal.length} octets; SMTP allows 512. It was answered 500 and the session went on.` };
    case 'storage-budget':
      return { code: 'storage-budget', words: `The account's storage budget is used up (${refusal.used} of ${refusal.budget} bytes held); mail is taken again as older messages expire.` };
    case 'disk-space-low':
      return { code: 'disk-space-low', words: 'Mailroom was short of disk space and took no new mail; it resumes by itself when space returns.' };
  }
}

/** The outcome as two columns: its kind, and the rest as JSON. */
export function outcomeColumns(outcome: SessionOutcome): { outcome: string; detail: string | null } {
  const { kind, ...rest } = outcome;
  return { outcome: kind, detail: Object.keys(rest).length > 0 ? JSON.stringify(rest) : null };
}

export function outcomeFromColumns(outcome: string, detail: string | null): SessionOutcome {
  return { kind: outcome, ...(detail ? JSON.parse(detail) : {}) } as SessionOutcome;
}
