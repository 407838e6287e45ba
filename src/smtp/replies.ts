/**
 * Every SMTP reply Mailroom says, in one place: the basic code, the RFC 3463
 * enhanced status code that fits the reason, and the words. Handlers pick a
 * reply from here; they never write reply strings themselves.
 */

export interface Reply {
  readonly code: number;
  readonly enhanced: string;
  readonly text: string;
}

function reply(code: number, enhanced: string, text: string): Reply {
  return { code, enhanced, text };
}

const date = (at: number) => new Date(at).toISOString().replace('.000Z', 'Z');

export const Replies = {
  // Connection and authentication
  authSucceeded: () => reply(235, '2.7.0', 'Authentication successful'),
  authFailed: () => reply(535, '5.7.8', 'Authentication credentials invalid: the username is your account email, the password a live secret key'),
  authThrottled: (until: number) => reply(421, '4.7.0', `Too many failed logins; try again after ${date(until)}`),
  authRequired: () => reply(530, '5.7.0', 'Authentication required: log in with your account email and secret key'),
  authRequiresTls: () => reply(538, '5.7.11', 'Encryption required: issue STARTTLS before AUTH'),
  temporaryFailure: () => reply(451, '4.3.0', 'Temporary local problem, message not accepted; try again later'),
  tooManyClients: () => reply(421, '4.4.5', 'Too many connected clients, try again in a moment'),
  // A correct key used outside its scope (policy/key-scope.ts): not a failed login, so not throttled
  keyExpired: (at: number) => reply(535, '5.7.8', `This secret key expired at ${date(at)}; create a new one`),
  keyNotForSmtp: () => reply(535, '5.7.8', 'This secret key may be used only to send over the HTTP API, not over SMTP'),
  keyIpNotAllowed: (ip: string, ranges: readonly string[]) =>
    reply(535, '5.7.8', `This secret key may be used only from ${ranges.join(', ')}; ${ip} is not among them`),
  shuttingDown: () => reply(421, '4.3.2', 'Service shutting down, try again later'),

  // Envelope and content policy
  nullSenderNotAllowed: () => reply(550, '5.7.1', 'A null sender (MAIL FROM:<>) cannot be used for submission; use an address on your verified domain'),
  senderDomainNotAdded: (domain: string) =>
    reply(550, '5.7.1', `Sender domain ${domain} is not a domain of your account; add it under Settings -> Domains and publish its DNS records`),
  senderDomainNotVerified: (domain: string) =>
    reply(550, '5.7.1', `Sender domain ${domain} is not verified yet; publish its DNS records and press Verify under Settings -> Domains`),
  headerFromNotAllowed: (domain: string) =>
    reply(550, '5.7.1', `From header domain ${domain} is not a verified domain of your account; send from an address on a verified domain`),
  senderOutsideKeyScope: (address: string, allowed: string) =>
    reply(550, '5.7.1', `This key may send only as ${allowed}; ${address} is outside its scope`),
  // A registered device sending without AUTH (the device lane): anything else needs a login
  senderOutsideDeviceScope: (address: string, allowed: string) =>
    reply(550, '5.7.1', `This device may send without logging in only as ${allowed}; ${address} is outside its scope: log in with a secret key to send as it`),
  keyDailyLimitReached: (limit: number, resetsAt: number) =>
    reply(451, '4.7.1', `This key's daily sending limit of ${limit} emails reached; it resets at ${date(resetsAt)}`),
  deviceDailyLimitReached: (limit: number, resetsAt: number) =>
    reply(451, '4.7.1', `This device's daily sending limit of ${limit} emails reached; it resets at ${date(resetsAt)}`),
  dailyLimitReached: (limit: number, resetsAt: number) =>
    reply(451, '4.7.1', `Daily sending limit of ${limit} emails reached; it resets at ${date(resetsAt)}`),
  recipientSuppressed: (address: string, reason: string, since: number) =>
    reply(550, '5.7.1', `Recipient ${address} is suppressed since ${date(since)} (${reason}); remove the suppression to send again`),
  tooManyRecipients: (max: number) => reply(452, '4.5.3', `Too many recipients; at most ${max} per message`),
  messageTooBig: (max: number) => reply(552, '5.3.4', `Message size exceeds the fixed maximum of ${max} bytes`),
  storageBudgetExceeded: (budget: number, used: number) =>
    reply(452, '4.3.1', `Storage budget of your account used up (${used} of ${budget} bytes held); try again once older messages have expired`),
  diskSpaceLow: () => reply(452, '4.3.1', 'Insufficient system storage; message not accepted, try again later'),
  bareLineEnding: () => reply(550, '5.5.2', 'Message contains a bare CR or LF; lines must end with CRLF'),
  missingHeaderFrom: () => reply(550, '5.6.0', 'Message has no valid From header'),
  // RFC 5322 limits: nothing of the message is kept (policy/message-lines.ts)
  nulByte: (line: number) => reply(550, '5.6.0', `Message contains a NUL byte (line ${line}), which RFC 5322 forbids; send binary content base64-encoded`),
  headerLineTooLong: (line: number, length: number) =>
    reply(550, '5.6.0', `Header line ${line} is ${length} octets long; RFC 5322 allows at most 998: fold the header`),
  bodyLineTooLong: (line: number, length: number) =>
    reply(550, '5.6.0', `Body line ${line} is ${length} octets long; RFC 5322 allows at most 998: encode the body as quoted-printable or base64`),
  // RFC 5321 4.5.3.1.4; the session stays usable
  commandLineTooLong: () => reply(500, '5.5.2', 'Line too long: a command line may have at most 512 octets'),

  // Acceptance
  // MAIL and RCPT success lines are the SMTP library's own (`250 2.1.0 Accepted`,
  // `250 2.1.5 Accepted`): its hooks take no success text.
  queued: (id: string) => reply(250, '2.0.0', `queued as ${id}`),

  // Inbound (mx role): only our bounce addresses receive mail
  mxUnknownRecipient: (address: string) => reply(550, '5.1.1', `No such recipient here: ${address}`),
  mxReportReceived: (id: string) => reply(250, '2.0.0', `report received as ${id}`),
  // A "receive here" address (domains/receive-here.ts): kept for its account to read
  mxMessageCaught: (id: string) => reply(250, '2.0.0', `received as ${id}`),
  // 5.6.0: resending the same mail will not help; the reporter's postmaster reads why.
  dmarcReportRefused: (reason: string) => reply(550, '5.6.0', `DMARC report not accepted: ${reason.replace(/[\r\n]+/g, ' ').slice(0, 300)}`),
} as const;

/** The single line as sent on the wire, without CRLF. */
export function formatReply(r: Reply): string {
  return `${r.code} ${replyText(r)}`;
}

/** The reply after its basic code, which is what the SMTP library takes as a message. */
export function replyText(r: Reply): string {
  return `${r.enhanced} ${r.text}`;
}

/**
 * An error carrying a reply, in the shape the SMTP server library sends
 * (`responseCode` + message). The message starts with the enhanced code, which
 * our patched `send` recognises so the library adds no guess of its own.
 */
export class SmtpReplyError extends Error {
  readonly responseCode: number;
  readonly reply: Reply;
  constructor(r: Reply) {
    super(replyText(r));
    this.responseCode = r.code;
    this.reply = r;
  }
}
