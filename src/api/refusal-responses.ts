/**
 * What the HTTP edge answers for each policy refusal, the counterpart of
 * smtp/refusal-replies.ts. Exhaustive: a new refusal kind fails the build here.
 */
import type { Refusal } from '../policy/refusal.ts';
import { describeSenders } from '../policy/key-scope.ts';
import { ApiError } from './errors.ts';

/** Which request field a refusal is about; they differ between the JSON and the raw form of a message. */
export interface RefusalFields {
  sender: string;
  headerFrom: string;
  recipient: (address: string) => string;
  /** The field holding the whole message (raw), if there is one. */
  message: string | undefined;
}

const iso = (at: number) => new Date(at).toISOString();

export function errorForRefusal(refusal: Refusal, fields: RefusalFields, now: number = Date.now()): ApiError {
  switch (refusal.kind) {
    case 'null-sender':
      return new ApiError(400, 'null_sender', 'A message needs a sender address on one of your verified domains', fields.sender);
    case 'sender-domain-not-added':
      return new ApiError(403, 'sender_domain_not_added',
        `Sender domain ${refusal.domain} is not a domain of your account; add it (POST /api/v1/domains) and publish its DNS records`, fields.sender);
    case 'sender-domain-not-verified':
      return new ApiError(403, 'sender_domain_not_verified',
        `Sender domain ${refusal.domain} is not verified yet; publish its DNS records, then POST /api/v1/domains/${refusal.domain}/verify`, fields.sender);
    case 'header-from-not-allowed':
      return new ApiError(403, 'from_domain_not_allowed', `From domain ${refusal.domain} is not a verified domain of your account`, fields.headerFrom);
    case 'missing-header-from':
      return new ApiError(400, 'missing_from', 'The message has no valid From header', fields.headerFrom);
    case 'daily-limit':
      return new ApiError(429, 'daily_limit_reached', `Daily sending limit of ${refusal.limit} emails reached; it resets at ${iso(refusal.resetsAt)}`,
        undefined, { 'retry-after': String(Math.max(1, Math.ceil((refusal.resetsAt - now) / 1000))) });
    case 'sender-outside-key-scope':
      return new ApiError(403, 'sender_outside_key_scope',
        `This ${refusal.holder} may send only as ${describeSenders(refusal.allowed)}; ${refusal.address} is outside its scope`, fields.sender);
    case 'key-daily-limit':
      return new ApiError(429, 'key_daily_limit_reached', `This ${refusal.holder}'s daily sending limit of ${refusal.limit} emails reached; it resets at ${iso(refusal.resetsAt)}`,
        undefined, { 'retry-after': String(Math.max(1, Math.ceil((refusal.resetsAt - now) / 1000))) });
    case 'recipient-suppressed':
      return new ApiError(400, 'recipient_suppressed',
        `Recipient ${refusal.address} is suppressed since ${iso(refusal.since)} (${refusal.reason}); remove it with DELETE /api/v1/suppressions/${refusal.address} to send again`,
        fields.recipient(refusal.address));
    case 'too-many-recipients':
      return new ApiError(400, 'too_many_recipients', `Too many recipients; at most ${refusal.max} per message`, fields.recipient(''));
    case 'message-too-big':
      return new ApiError(413, 'message_too_big', `The message is larger than the maximum of ${refusal.max} bytes`, fields.message);
    case 'forbidden-input':
      switch (refusal.problem) {
        case 'nul-byte':
          return new ApiError(400, 'nul_byte', `The message contains a NUL byte (line ${refusal.line}), which RFC 5322 forbids; encode binary content as base64`, fields.message);
        case 'header-line-too-long':
          return new ApiError(400, 'header_line_too_long', `Header line ${refusal.line} of the message is ${refusal.length} octets long; RFC 5322 allows at most 998: fold the header`, fields.message);
        case 'body-line-too-long':
          return new ApiError(400, 'body_line_too_long', `Body line ${refusal.line} of the message is ${refusal.length} octets long; RFC 5322 allows at most 998: encode the body as quoted-printable or base64`, fields.message);
      }
      break;
    case 'command-line-too-long':
      // An SMTP-only refusal; the API has no command lines. Said plainly all the same.
      return new ApiError(400, 'line_too_long', `A line of ${refusal.length} octets is too long`, fields.message);
    // The account's own quota, like the daily limit: 429, retried later by any HTTP client.
    case 'storage-budget':
      return new ApiError(429, 'storage_budget_exceeded',
        `The storage budget of your account is used up (${refusal.used} of ${refusal.budget} bytes held); it frees up as older messages expire`,
        undefined, { 'retry-after': '600' });
    // The server's storage, not the caller's doing: 507 Insufficient Storage.
    case 'disk-space-low':
      return new ApiError(507, 'insufficient_storage', 'Mailroom is short of disk space and accepts no new mail for now; try again later',
        undefined, { 'retry-after': '60' });
  }
}
