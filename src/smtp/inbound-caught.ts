/**
 * The mx listener's side of "receive here" (domains/receive-here.ts): which
 * recipients it takes mail for, and catching a message for each of them.
 * Kept apart from inbound.ts's bounce and report handling, so each kind of
 * inbound mail stays one small hook.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/database.ts';
import type { Config } from '../config/options.ts';
import { receivingAccount } from '../domains/receive-here.ts';
import { readCaughtMail } from '../events/caught-mail.ts';
import { newId } from '../store/ids.ts';
import type { QueueWriter } from '../queue/writer.ts';
import type { EventWrites } from '../events/event-writes.ts';

export interface CaughtDeps {
  config: Config;
  /** Reads: which addresses receive here. */
  store: Store;
  /** The caught message is written through the queue writer, like every other write. */
  writer: QueueWriter<EventWrites>;
  logger: Logger;
}

/** Does an account receive mail at this address? */
export async function receivesHere(store: Store, address: string): Promise<boolean> {
  return (await receivingAccount(store, address)) !== null;
}

/** Stores the message once for every recipient that receives here; answers what was caught for whom (none: not for us). */
export async function catchForRecipients(deps: CaughtDeps, envelope: { mailFrom: string; rcptTo: readonly string[]; clientIp: string | null }, raw: Buffer): Promise<Array<{ id: string; recipient: string }>> {
  const caught: Array<{ id: string; recipient: string }> = [];
  let read: Awaited<ReturnType<typeof readCaughtMail>> | null = null;
  for (const recipient of new Set(envelope.rcptTo.map((r) => r.toLowerCase()))) {
    const receiver = await receivingAccount(deps.store, recipient);
    if (!receiver) continue;
    read ??= await readCaughtMail(raw, envelope.mailFrom);
    const now = Date.now();
    const id = newId();
    await deps.writer.run('catchMail', {
      id, read,
      request: { accountId: receiver.accountId, recipient: receiver.address, mailFrom: envelope.mailFrom, raw, clientIp: envelope.clientIp, now, retentionMs: deps.config.caughtMailRetention },
    });
    deps.logger.info({ event: 'mx.caught', caughtId: id, account: receiver.accountId, recipient: receiver.address, from: envelope.mailFrom, codeFound: read.code !== null },
      `caught mail for ${receiver.address}`);
    caught.push({ id, recipient });
  }
  return caught;
}
