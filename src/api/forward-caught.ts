/**
 * Forwarding a caught message ("receive here") to another address, the way a
 * mail client forwards: a new message "Fwd: <subject>" from the address it
 * was caught for, whose text says what was caught (the code and link first)
 * followed by the original's text, with the original attached whole as
 * message/rfc822 (original.eml), so nothing of it is lost and its own
 * signature is not broken by rewriting it. It takes the normal path of
 * POST /api/v1/messages (submit-message.ts): the same sender, scope,
 * suppression and daily-limit checks, DKIM-signed for the account's domain.
 */
import type { CaughtMessage } from '../events/caught-mail.ts';
import type { Principal } from './auth.ts';
import { submitMessage, type SubmitDeps } from './submit-message.ts';

const oneLine = (value: string) => value.replace(/[\r\n]+/g, ' ').trim();

export async function forwardCaught(deps: SubmitDeps, principal: Principal, caught: CaughtMessage & { raw: Buffer }, to: string, clientIp: string): Promise<{ id: string; size: number }> {
  const subject = oneLine(caught.subject);
  const summary = [
    `Mailroom caught this message for ${caught.recipient} ("receive here") and forwards it at your request; the original is attached.`,
    '',
    `From: ${oneLine(caught.headerFrom || caught.mailFrom || '(none)')}`,
    `Received: ${new Date(caught.receivedAt).toUTCString()}`,
    `Subject: ${subject}`,
    ...(caught.code || caught.link ? [''] : []),
    ...(caught.code ? [`Confirmation code: ${caught.code}`] : []),
    ...(caught.link ? [`Confirmation link: ${caught.link}`] : []),
    '',
    '---------- Forwarded message ----------',
    caught.text,
  ].join('\n');
  const result = await submitMessage(deps, principal, {
    from: caught.recipient,
    to,
    subject: `Fwd: ${subject}`.slice(0, 900),
    text: summary,
    headers: { 'X-Mailroom-Caught-Id': caught.id },
    attachments: [{ filename: 'original.eml', contentType: 'message/rfc822', content: caught.raw.toString('base64') }],
  }, { idempotencyKey: null, clientIp });
  return { id: result.id, size: result.size };
}
