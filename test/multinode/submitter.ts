/**
 * A lean SMTP submission client for load: many connections, each pipelining
 * MAIL FROM, RCPT TO and DATA, all pulling from one shared list of messages.
 * It records exactly which messages got a 250 (and the queue id named in it),
 * which were refused (with the reply), and which were in flight when their
 * connection died: those are neither acknowledged nor refused.
 */
// The benchmark's load generator uses the same thin client: one SMTP client for both.
import { SmtpWire, type Reply } from '../support/smtp-wire.ts';

export interface OutgoingMessage {
  /** Unique per message; carried in the X-Test-Tag header and the subject. */
  tag: string;
  from: string;
  to: string[];
}

export interface Target {
  name: string;
  host: string;
  port: number;
}

export interface SubmitOutcome {
  acknowledged: Map<string, { queueId: string; target: string }>;
  /** The refusing reply, and whether it came after the body (the commit's verdict) or before it. */
  refused: Map<string, { reply: string; afterData: boolean }>;
  /** In flight when the connection broke: the server may or may not have committed them. */
  unknown: Map<string, string>;
  /** Never tried because every connection had died. */
  unsent: string[];
}

export interface SubmitOptions {
  targets: Target[];
  connectionsPerTarget: number;
  auth: { user: string; pass: string };
  messages: OutgoingMessage[];
  /** Told after each acknowledgement, e.g. to kill a node mid-run. */
  onAcknowledged?: (tag: string, target: string, outcome: SubmitOutcome) => void;
  bodyLines?: number;
}

export async function submitAll(options: SubmitOptions): Promise<SubmitOutcome> {
  const outcome: SubmitOutcome = { acknowledged: new Map(), refused: new Map(), unknown: new Map(), unsent: [] };
  const queue = [...options.messages];
  const body = Array.from({ length: options.bodyLines ?? 10 }, (_, i) => `Line ${i} of a multi-node test message, long enough to look like mail.`).join('\r\n');
  const workers = options.targets.flatMap((target) => Array.from({ length: options.connectionsPerTarget }, () => runConnection(target)));
  await Promise.all(workers);
  outcome.unsent.push(...queue.map((m) => m.tag));
  return outcome;

  async function runConnection(target: Target): Promise<void> {
    let connection: SmtpWire;
    try {
      connection = await SmtpWire.connect(target.host, target.port);
      expect(await connection.read(), 220, 'greeting');
      connection.write('EHLO loadtest.example\r\n');
      expect(await connection.read(), 250, 'EHLO');
      connection.write(`AUTH PLAIN ${Buffer.from(`\0${options.auth.user}\0${options.auth.pass}`).toString('base64')}\r\n`);
      expect(await connection.read(), 235, 'AUTH');
    } catch {
      return; // a node that is down takes no share of the work
    }
    for (let message = queue.shift(); message; message = queue.shift()) {
      try {
        const { reply, afterData } = await sendOne(connection, message);
        if (reply.code === 250) {
          const queueId = /queued as (\S+)/.exec(reply.text)?.[1] ?? '';
          outcome.acknowledged.set(message.tag, { queueId, target: target.name });
          options.onAcknowledged?.(message.tag, target.name, outcome);
        } else {
          outcome.refused.set(message.tag, { reply: `${reply.code} ${reply.text}`, afterData });
        }
      } catch (error) {
        outcome.unknown.set(message.tag, (error as Error).message);
        connection.close();
        return;
      }
    }
    connection.write('QUIT\r\n');
    connection.close();
  }

  async function sendOne(connection: SmtpWire, message: OutgoingMessage): Promise<{ reply: Reply; afterData: boolean }> {
    connection.write(`MAIL FROM:<${message.from}>\r\n${message.to.map((to) => `RCPT TO:<${to}>\r\n`).join('')}DATA\r\n`);
    const mail = await connection.read();
    const rcpts: Reply[] = [];
    for (let i = 0; i < message.to.length; i++) rcpts.push(await connection.read());
    const data = await connection.read();
    if (data.code !== 354) {
      // Refused before the body: report the first refusal that explains it.
      const reason = [mail, ...rcpts, data].find((reply) => reply.code >= 400)!;
      connection.write('RSET\r\n');
      await connection.read();
      return { reply: reason, afterData: false };
    }
    connection.write(`From: <${message.from}>\r\nTo: ${message.to.map((to) => `<${to}>`).join(', ')}\r\nSubject: multinode ${message.tag}\r\n`
      + `X-Test-Tag: ${message.tag}\r\n\r\n${body}\r\n.\r\n`);
    return { reply: await connection.read(), afterData: true };
  }
}

function expect(reply: Reply, code: number, step: string): void {
  if (reply.code !== code) throw new Error(`${step}: ${reply.code} ${reply.text}`);
}
