/**
 * A line-level SMTP client for tests that need to see (and pin) every reply:
 * transcripts, pipelining, smuggling attempts, half-written commands. Real
 * sockets only; the client never interprets a reply beyond finding where it
 * ends, so what a test asserts is exactly what went over the wire.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface DialogueOptions {
  /** Implicit TLS (the submissions listener). */
  tls?: boolean;
  /** Source address, e.g. 127.0.0.2, so per-IP counters see a different client. */
  localAddress?: string;
  /** How long one reply may take before the test fails; default 5s. */
  timeoutMs?: number;
  /** The name TLS asks for (SNI), and with `ca` verifies. */
  servername?: string;
  /** Trust only this root and verify the name, as a strict mail client does; omit to accept any certificate. */
  ca?: string;
  /** Signature algorithms the client offers (e.g. RSA ones only, as a client that cannot verify ECDSA). */
  sigalgs?: string;
}

export interface SmtpDialogue {
  /** The next complete reply, every line of it ("250-…", …, "250 …"). */
  reply(): Promise<string[]>;
  /** Writes the line (CRLF added) and returns the lines of its reply. */
  command(line: string): Promise<string[]>;
  /** Writes the line and returns the last line of its reply, the one tests usually pin. */
  say(line: string): Promise<string>;
  /** Writes bytes exactly as given (no CRLF added, nothing read). */
  write(bytes: string | Buffer): void;
  /** EHLO; returns the extension lines without their "250-"/"250 " prefix (the greeting line excluded). */
  ehlo(name?: string): Promise<string[]>;
  /**
   * STARTTLS, then the TLS handshake on the same socket (any certificate
   * accepted). `injected` is written in the same packet right after the
   * command, in plaintext, as an attacker in the middle would (CVE-2011-0411).
   */
  startTls(injected?: string): Promise<void>;
  /** AUTH PLAIN with an initial response; returns the final reply line. */
  authPlain(username: string, password: string): Promise<string>;
  readonly greeting: string;
  readonly secure: boolean;
  /** The connection as it is now: a TLSSocket once TLS is up. */
  readonly socket: net.Socket;
  /** Resolves when the server has closed the connection. */
  readonly closed: Promise<void>;
  isClosed(): boolean;
  close(): void;
}

export async function openDialogue(port: number, options: DialogueOptions = {}): Promise<SmtpDialogue> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const raw = net.connect({ host: '127.0.0.1', port, localAddress: options.localAddress });
  const tlsOptions = {
    servername: options.servername, ...(options.sigalgs ? { sigalgs: options.sigalgs } : {}),
    ...(options.ca ? { ca: options.ca, rejectUnauthorized: true } : { rejectUnauthorized: false }),
  };
  let socket: net.Socket = options.tls ? tls.connect({ socket: raw, ...tlsOptions }) : raw;
  let secure = options.tls === true;
  let buffer = '';
  let ended = false;
  const waiters: Array<() => void> = [];
  let markClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => { markClosed = resolve; });

  const onData = (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    for (const wake of waiters.splice(0)) wake();
  };
  const attach = (s: net.Socket) => {
    s.on('data', onData);
    s.on('error', () => {});
    s.on('close', () => {
      ended = true;
      markClosed();
      for (const wake of waiters.splice(0)) wake();
    });
  };
  attach(socket);

  /** Takes one complete reply off the buffer, or null when it has not all arrived. */
  const takeReply = (): string[] | null => {
    const lines: string[] = [];
    let offset = 0;
    for (;;) {
      const end = buffer.indexOf('\r\n', offset);
      if (end === -1) return null;
      const line = buffer.slice(offset, end);
      offset = end + 2;
      lines.push(line);
      if (!/^\d{3}-/.test(line)) {
        buffer = buffer.slice(offset);
        return lines;
      }
    }
  };

  const reply = async (): Promise<string[]> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const taken = takeReply();
      if (taken) return taken;
      if (ended) throw new Error(`connection closed while waiting for a reply (unread: ${JSON.stringify(buffer)})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no complete reply within ${timeoutMs}ms (unread: ${JSON.stringify(buffer)})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  };

  const write = (bytes: string | Buffer) => { socket.write(bytes); };
  const command = (line: string) => { write(line + '\r\n'); return reply(); };
  const last = (lines: string[]) => lines[lines.length - 1];

  await new Promise<void>((resolve, reject) => {
    socket.once(options.tls ? 'secureConnect' : 'connect', () => resolve());
    socket.once('error', reject);
  });
  const greeting = last(await reply());

  return {
    reply,
    command,
    say: async (line) => last(await command(line)),
    write,
    async ehlo(name = 'client.test') {
      const lines = await command(`EHLO ${name}`);
      if (!lines[0].startsWith('250')) throw new Error(`EHLO refused: ${lines.join(' | ')}`);
      return lines.slice(1).map((line) => line.slice(4));
    },
    async startTls(injected = '') {
      write(`STARTTLS\r\n${injected}`);
      const answer = await reply();
      if (!answer[0].startsWith('220')) throw new Error(`STARTTLS refused: ${answer.join(' | ')}`);
      socket.off('data', onData);
      const plain = socket;
      const secured = tls.connect({ socket: plain, ...tlsOptions });
      await new Promise<void>((resolve, reject) => {
        secured.once('secureConnect', () => resolve());
        secured.once('error', reject);
      });
      socket = secured;
      secure = true;
      secured.on('data', onData);
      secured.on('error', () => {});
    },
    async authPlain(username, password) {
      const token = Buffer.from(`\0${username}\0${password}`).toString('base64');
      return last(await command(`AUTH PLAIN ${token}`));
    },
    greeting,
    get secure() { return secure; },
    get socket() { return socket; },
    closed,
    isClosed: () => ended,
    close() { socket.destroy(); },
  };
}

/** Waits for the server to close the connection, failing the test after `ms`. */
export async function expectClosed(dialogue: SmtpDialogue, ms = 3000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`the server did not close the connection within ${ms}ms`)), ms);
  });
  try {
    await Promise.race([dialogue.closed, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A minimal valid message (CRLF line endings), without the terminating dot. */
export function message(from: string, to: string, extraHeaders: string[] = [], body = 'Hello.'): string {
  return [`From: ${from}`, `To: ${to}`, 'Subject: test', ...extraHeaders, '', body, ''].join('\r\n');
}

/** MAIL, RCPTs, DATA, the body and the dot; returns the final reply line (or the first refusal). */
export async function sendMessage(dialogue: SmtpDialogue, envelope: { from: string; to: string[] }, data: string): Promise<string> {
  const mail = await dialogue.say(`MAIL FROM:<${envelope.from}>`);
  if (!mail.startsWith('250')) return mail;
  for (const rcpt of envelope.to) {
    const answer = await dialogue.say(`RCPT TO:<${rcpt}>`);
    if (!answer.startsWith('250')) return answer;
  }
  const go = await dialogue.say('DATA');
  if (!go.startsWith('354')) return go;
  dialogue.write(data.endsWith('\r\n') ? `${data}.\r\n` : `${data}\r\n.\r\n`);
  const lines = await dialogue.reply();
  return lines[lines.length - 1];
}

/** The queue id from "250 2.0.0 queued as <id>". */
export function queueIdOf(reply: string): string {
  const match = /^250 2\.0\.0 queued as (\S+)$/.exec(reply);
  if (!match) throw new Error(`not a queued reply: ${reply}`);
  return match[1];
}

/** One step of a transcript: what the client says, and the exact (last) reply line expected. */
export type Step = [command: string, expected: string | RegExp];

/**
 * Plays the steps and returns the transcript as text ("c: …" / "s: …"), with
 * each expected line that is a RegExp replaced by the actual line when it
 * matches, so one deepEqual of two texts shows the whole dialogue on failure.
 */
export async function playTranscript(dialogue: SmtpDialogue, steps: Step[]): Promise<{ actual: string; expected: string }> {
  const actual: string[] = [];
  const expected: string[] = [];
  for (const [command, want] of steps) {
    const got = await dialogue.say(command);
    actual.push(`c: ${command}`, `s: ${got}`);
    expected.push(`c: ${command}`, `s: ${typeof want === 'string' ? want : want.test(got) ? got : `/${want.source}/`}`);
  }
  return { actual: actual.join('\n'), expected: expected.join('\n') };
}

/** A dialogue over TLS, for the certificate suites. */
export type TlsDialogue = SmtpDialogue & { readonly socket: tls.TLSSocket; serial(): string };

export interface TlsDialogueOptions {
  port: number;
  servername: string;
  /** Trust only this root and verify the name; omit to accept any certificate. */
  ca?: string;
  sigalgs?: string;
}

/** Implicit TLS (the submissions port): TLS first, then the greeting. */
export async function openImplicitTls(options: TlsDialogueOptions): Promise<TlsDialogue> {
  return withSerial(await openDialogue(options.port, { tls: true, servername: options.servername, ca: options.ca, sigalgs: options.sigalgs }));
}

/** The STARTTLS port: greeting, EHLO, STARTTLS, then TLS on the same connection. */
export async function openStartTls(options: TlsDialogueOptions): Promise<TlsDialogue> {
  const dialogue = await openDialogue(options.port, { servername: options.servername, ca: options.ca, sigalgs: options.sigalgs });
  await dialogue.ehlo();
  await dialogue.startTls();
  return withSerial(dialogue);
}

function withSerial(dialogue: SmtpDialogue): TlsDialogue {
  return Object.assign(dialogue as TlsDialogue, { serial: () => (dialogue.socket as tls.TLSSocket).getPeerCertificate().serialNumber });
}
