/**
 * A lean SMTP submission client for load: many connections, each pipelining
 * MAIL FROM, RCPT TO and DATA, all pulling from one shared list of messages.
 * It records exactly which messages got a 250 (and the queue id named in it),
 * which were refused (with the reply), and which were in flight when their
 * connection died: those are neither acknowledged nor refused.
 */
import net from 'node:net';

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
    let connection: Connection;
    try {
      connection = await Connection.open(target.host, target.port);
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

  async function sendOne(connection: Connection, message: OutgoingMessage): Promise<{ reply: Reply; afterData: boolean }> {
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

interface Reply {
  code: number;
  text: string;
}

/** One socket; replies come back whole (multi-line joined), in order. */
class Connection {
  #socket: net.Socket;
  #buffer = '';
  #lines: string[] = [];
  #ready: Reply[] = [];
  #waiting: Array<{ resolve: (reply: Reply) => void; reject: (error: Error) => void }> = [];
  #failure: Error | null = null;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => this.#parse(chunk));
    socket.on('close', () => this.#fail(new Error('connection closed')));
    socket.on('error', (error) => this.#fail(error));
  }

  static open(host: string, port: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, noDelay: true });
      socket.once('connect', () => { socket.off('error', reject); resolve(new Connection(socket)); });
      socket.once('error', reject);
    });
  }

  write(text: string): void {
    if (!this.#failure) this.#socket.write(text);
  }

  read(): Promise<Reply> {
    const reply = this.#ready.shift();
    if (reply) return Promise.resolve(reply);
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  close(): void {
    this.#socket.destroy();
  }

  #parse(chunk: string): void {
    this.#buffer += chunk;
    for (let end = this.#buffer.indexOf('\r\n'); end !== -1; end = this.#buffer.indexOf('\r\n')) {
      const line = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      this.#lines.push(line.slice(4));
      if (line.charAt(3) === '-') continue;
      const reply = { code: Number(line.slice(0, 3)), text: this.#lines.join('\n') };
      this.#lines = [];
      const waiter = this.#waiting.shift();
      if (waiter) waiter.resolve(reply);
      else this.#ready.push(reply);
    }
  }

  #fail(error: Error): void {
    if (this.#failure) return;
    this.#failure = error;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(error);
  }
}
