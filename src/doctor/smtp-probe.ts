/**
 * The smallest SMTP client that can walk a server through what Gmail does
 * before it accepts a "Send mail as" server: connect, TLS (implicit or after
 * STARTTLS), EHLO, AUTH. It reports what happened instead of hiding it behind
 * a send() call, so each step can be judged on its own. It never sends mail.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface SmtpReply {
  code: number;
  /** Every line's text after the code, joined with spaces. */
  text: string;
  lines: string[];
}

export interface HandshakeFacts {
  protocol: string | null;
  cipher: string;
  authorized: boolean;
  authorizationError: string | null;
  certificate: tls.PeerCertificate;
}

export class SmtpProbe {
  #socket: net.Socket;
  readonly #timeoutMs: number;
  #buffer = '';
  #lines: string[] = [];
  #waiting: { resolve: (reply: SmtpReply) => void; reject: (error: Error) => void } | null = null;
  #failure: Error | null = null;

  private constructor(socket: net.Socket, timeoutMs: number) {
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    this.#listen(socket);
  }

  static connect(address: string, port: number, timeoutMs: number): Promise<SmtpProbe> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: address, port });
      const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeListener('error', reject);
        resolve(new SmtpProbe(socket, timeoutMs));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  read(): Promise<SmtpReply> {
    const ready = this.#takeReply();
    if (ready) return Promise.resolve(ready);
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting = null;
        reject(new Error(`no reply within ${this.#timeoutMs / 1000} s`));
      }, this.#timeoutMs);
      this.#waiting = {
        resolve: (reply) => { clearTimeout(timer); resolve(reply); },
        reject: (error) => { clearTimeout(timer); reject(error); },
      };
    });
  }

  command(line: string): Promise<SmtpReply> {
    this.#socket.write(`${line}\r\n`);
    return this.read();
  }

  /** Starts TLS on the connection (at once for implicit TLS, after `220` to STARTTLS otherwise); never refuses the certificate itself. */
  startTls(servername: string, caCerts: string | readonly string[] | undefined): Promise<HandshakeFacts> {
    const raw = this.#socket;
    raw.removeAllListeners('data');
    return new Promise((resolve, reject) => {
      const secure = tls.connect({
        socket: raw, servername, rejectUnauthorized: false,
        // The name is judged as a step of its own; `authorized` then speaks of the chain alone.
        checkServerIdentity: () => undefined,
        ...(caCerts !== undefined ? { ca: [...tls.rootCertificates, ...(typeof caCerts === 'string' ? [caCerts] : caCerts)] } : {}),
      });
      const timer = setTimeout(() => secure.destroy(new Error(`TLS handshake not finished within ${this.#timeoutMs / 1000} s`)), this.#timeoutMs);
      secure.once('secureConnect', () => {
        clearTimeout(timer);
        secure.removeListener('error', onError);
        this.#socket = secure;
        this.#listen(secure);
        resolve({
          protocol: secure.getProtocol(), cipher: secure.getCipher().name, authorized: secure.authorized,
          authorizationError: secure.authorizationError ? String(secure.authorizationError) : null, certificate: secure.getPeerCertificate(true),
        });
      });
      const onError = (error: Error) => {
        clearTimeout(timer);
        reject(error);
      };
      secure.once('error', onError);
    });
  }

  close(): void {
    if (!this.#socket.destroyed) {
      this.#socket.end('QUIT\r\n');
      this.#socket.destroySoon();
    }
  }

  #listen(socket: net.Socket): void {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      let end: number;
      while ((end = this.#buffer.indexOf('\n')) >= 0) {
        this.#lines.push(this.#buffer.slice(0, end).replace(/\r$/, ''));
        this.#buffer = this.#buffer.slice(end + 1);
      }
      this.#deliver();
    });
    socket.on('error', (error) => this.#fail(error));
    socket.on('close', () => this.#fail(new Error('the server closed the connection')));
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    const waiting = this.#waiting;
    this.#waiting = null;
    waiting?.reject(this.#failure);
  }

  #deliver(): void {
    if (!this.#waiting) return;
    const reply = this.#takeReply();
    if (!reply) return;
    const waiting = this.#waiting;
    this.#waiting = null;
    waiting.resolve(reply);
  }

  /** A reply ends at the line whose code is followed by a space (RFC 5321 4.2.1). */
  #takeReply(): SmtpReply | null {
    const last = this.#lines.findIndex((line) => /^\d{3}(?: |$)/.test(line));
    if (last < 0) return null;
    const lines = this.#lines.splice(0, last + 1);
    return { code: Number(lines[last].slice(0, 3)), text: lines.map((line) => line.slice(4)).join(' '), lines: lines.map((line) => line.slice(4)) };
  }
}
