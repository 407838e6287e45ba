/**
 * Why Mailroom refuses to take a message. Policy decides; each edge (SMTP,
 * HTTP) maps every kind to what it says, exhaustively, so a new reason does
 * not compile until both edges have words for it.
 */
export type Refusal =
  | { kind: 'null-sender' }
  | { kind: 'sender-domain-not-added'; domain: string }
  | { kind: 'sender-domain-not-verified'; domain: string }
  | { kind: 'header-from-not-allowed'; domain: string }
  | { kind: 'missing-header-from' }
  | { kind: 'daily-limit'; limit: number; resetsAt: number }
  /** The secret key's (or the device's) own scope (policy/key-scope.ts) names other senders; `allowed` is that list. */
  | { kind: 'sender-outside-key-scope'; holder: ScopeHolder; address: string; allowed: readonly string[] }
  /** The secret key's (or the device's) own daily limit, within the account's. */
  | { kind: 'key-daily-limit'; holder: ScopeHolder; limit: number; resetsAt: number }
  | { kind: 'recipient-suppressed'; address: string; reason: string; since: number }
  | { kind: 'too-many-recipients'; max: number }
  | { kind: 'message-too-big'; max: number }
  /** RFC 5322 forbids it (policy/message-lines.ts); `line` counts from 1, `length` in octets without CRLF. */
  | { kind: 'forbidden-input'; problem: InputProblem; line: number; length: number }
  /** RFC 5321 4.5.3.1.4: an SMTP command line over 512 octets (the session goes on). */
  | { kind: 'command-line-too-long'; length: number }
  /** The account holds its MAILROOM_STORAGE_BUDGET of message bytes already. */
  | { kind: 'storage-budget'; budget: number; used: number }
  /** The data directory's free space is below MAILROOM_MIN_FREE_SPACE. */
  | { kind: 'disk-space-low' };

/** Who a scope belongs to: a secret key, or a device sending without AUTH. */
export type ScopeHolder = 'key' | 'device';

export type InputProblem = 'nul-byte' | 'header-line-too-long' | 'body-line-too-long';

export type Verdict = { ok: true } | { ok: false; refusal: Refusal };

export const ACCEPT: Verdict = { ok: true };

export function refuse(refusal: Refusal): Verdict {
  return { ok: false, refusal };
}
