/** What the SMTP edge says for each policy refusal. Exhaustive: a new refusal kind fails the build here. */
import type { Refusal } from '../policy/refusal.ts';
import { describeSenders } from '../policy/key-scope.ts';
import { Replies, type Reply } from './replies.ts';

export function replyForRefusal(refusal: Refusal): Reply {
  switch (refusal.kind) {
    case 'null-sender': return Replies.nullSenderNotAllowed();
    case 'sender-domain-not-added': return Replies.senderDomainNotAdded(refusal.domain);
    case 'sender-domain-not-verified': return Replies.senderDomainNotVerified(refusal.domain);
    case 'header-from-not-allowed': return Replies.headerFromNotAllowed(refusal.domain);
    case 'missing-header-from': return Replies.missingHeaderFrom();
    case 'daily-limit': return Replies.dailyLimitReached(refusal.limit, refusal.resetsAt);
    case 'sender-outside-key-scope':
      return refusal.holder === 'key'
        ? Replies.senderOutsideKeyScope(refusal.address, describeSenders(refusal.allowed))
        : Replies.senderOutsideDeviceScope(refusal.address, describeSenders(refusal.allowed));
    case 'key-daily-limit':
      return refusal.holder === 'key' ? Replies.keyDailyLimitReached(refusal.limit, refusal.resetsAt) : Replies.deviceDailyLimitReached(refusal.limit, refusal.resetsAt);
    case 'recipient-suppressed': return Replies.recipientSuppressed(refusal.address, refusal.reason, refusal.since);
    case 'too-many-recipients': return Replies.tooManyRecipients(refusal.max);
    case 'message-too-big': return Replies.messageTooBig(refusal.max);
    case 'forbidden-input':
      switch (refusal.problem) {
        case 'nul-byte': return Replies.nulByte(refusal.line);
        case 'header-line-too-long': return Replies.headerLineTooLong(refusal.line, refusal.length);
        case 'body-line-too-long': return Replies.bodyLineTooLong(refusal.line, refusal.length);
      }
      break;
    case 'command-line-too-long': return Replies.commandLineTooLong();
    case 'storage-budget': return Replies.storageBudgetExceeded(refusal.budget, refusal.used);
    case 'disk-space-low': return Replies.diskSpaceLow();
  }
}
