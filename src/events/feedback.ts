/**
 * Bounces and complaints that come back to a VERP address after we handed
 * a message over: the recipient's status changes, hard bounces and
 * complaints suppress the address, and the events feed the log and webhooks.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { InboundReport } from './inbound-report.ts';
import { recordEvents, type MessageEvent } from '../queue/message-events.ts';
import { suppress } from '../suppressions/suppressions.ts';
import { classifyRawReply } from '../remote-replies/classify.ts';
import { isHardBounce } from '../remote-replies/verdict.ts';
import { statusesBefore } from '../queue/delivery-status.ts';
import { changeStatus } from '../queue/status-change.ts';

interface DeliveryRow {
  id: string;
  message_id: string;
  account_id: string | null;
  recipient: string;
}

/** `token` is what the VERP address carried: a delivery id, or a message id for a multi-recipient transaction. */
export async function applyInboundReport(tx: Kysely<Database>, token: string, report: InboundReport, now: number): Promise<number> {
  if (report.kind === 'unknown') return 0;
  const deliveries = await tx.selectFrom('deliveries').select(['id', 'message_id', 'account_id', 'recipient'])
    .where((eb) => eb.or([eb('id', '=', token), eb('message_id', '=', token)])).execute();
  if (deliveries.length === 0) return 0;
  const events: MessageEvent[] = [];

  if (report.kind === 'complaint') {
    const target = pickComplained(deliveries, report.originalRecipient);
    if (!target) return 0;
    await setStatus(tx, target.id, 'complained', `complaint: ${report.feedbackType}`, now);
    events.push(event(target, 'complained', `feedback report: ${report.feedbackType}`, null, now));
    if (target.account_id) {
      await suppress(tx, target.account_id, target.recipient, `complaint (${report.feedbackType})`, target.id);
      events.push(event(target, 'suppressed', `feedback report: ${report.feedbackType}`, null, now));
    }
    await recordEvents(tx, events);
    return 1;
  }

  let changed = 0;
  for (const reported of report.recipients.filter((r) => r.action.toLowerCase() === 'failed')) {
    const target = deliveries.length === 1 ? deliveries[0] : deliveries.find((d) => d.recipient.toLowerCase() === reported.address.toLowerCase());
    if (!target) continue;
    const reply = reported.diagnostic || `${reported.status} (reported by DSN)`;
    const verdict = classifyRawReply(/^\d{3}/.test(reply) ? reply : `550 ${reported.status || '5.0.0'} ${reply}`);
    const bounceClass = verdict.kind === 'bounced' ? verdict.bounceClass : 'other';
    await setStatus(tx, target.id, 'bounced', reply, now);
    events.push(event(target, 'bounced', reply, bounceClass, now));
    if (target.account_id && isHardBounce(bounceClass)) {
      await suppress(tx, target.account_id, target.recipient, `hard bounce: ${reply}`.slice(0, 500), target.id);
      events.push(event(target, 'suppressed', reply, bounceClass, now));
    }
    changed += 1;
  }
  await recordEvents(tx, events);
  return changed;
}

function pickComplained(deliveries: DeliveryRow[], originalRecipient: string | undefined): DeliveryRow | undefined {
  if (deliveries.length === 1) return deliveries[0];
  const wanted = originalRecipient?.replace(/^rfc822;\s*/i, '').toLowerCase();
  return deliveries.find((d) => d.recipient.toLowerCase() === wanted);
}

/** What the far side reports is the last word, whatever the delivery's status was (see delivery-status.ts). */
async function setStatus(tx: Kysely<Database>, deliveryId: string, status: 'bounced' | 'complained', reply: string, now: number): Promise<void> {
  await changeStatus(tx, statusesBefore(status), status, { last_reply: reply, lease_owner: null, updated_at: now }).where('id', '=', deliveryId).execute();
}

function event(d: DeliveryRow, type: MessageEvent['type'], reply: string, bounceClass: string | null, at: number): MessageEvent {
  return { accountId: d.account_id, messageId: d.message_id, deliveryId: d.id, recipient: d.recipient, type, reply, bounceClass, at };
}
