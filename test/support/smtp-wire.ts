/**
 * The client side of one SMTP connection, as thin as it can be: writes what
 * it is given and hands back whole replies (multi-line ones joined) in order.
 * Reading replies in order is all pipelining needs: the server answers
 * pipelined commands one by one, in the order they were sent.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface Reply {
  code: number;
  /** Every line of the reply, without its code, joined with \n. */
  text: string;
}

export class SmtpWire {
  #socket: net.Socket;
  #partial = '';
  #lines: string[] = [];
  #ready: Reply[] = [];
  #waiting: Array<{ resolve: (reply: Reply) => void; reject: (error: Error) => void }> = [];
  #failure: Error | null = null;
  readonly #onData = (chunk: Buffer) => this.#parse(chunk);
  readonly #onEnd = () => this.#fail(new Error('server closed the connection'));
  readonly #onError = (error: Error) => this.#fail(error);

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    this.#attach(socket);
  }

  static connect(host: string, port: number): Promise<SmtpWire> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, noDelay: true });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new SmtpWire(socket));
      });
      socket.once('error', reject);
    });
  }

  write(data: string | Buffer): void {
    this.#socket.write(data);
  }

  read(): Promise<Reply> {
    const reply = this.#ready.shift();
    if (reply) return Promise.resolve(reply);
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  /** Call after the server's 220 to STARTTLS; later reads and writes go through TLS. */
  async startTls(): Promise<void> {
    this.#detach(this.#socket);
    const plain = this.#socket;
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      // The servers under test present a throwaway self-signed certificate.
      const socket = tls.connect({ socket: plain, rejectUnauthorized: false }, () => {
        socket.off('error', reject);
        resolve(socket);
      });
      socket.once('error', reject);
    });
    this.#socket = secure;
    this.#attach(secure);
  }

  close(): void {
    this.#detach(this.#socket);
    this.#socket.on('error', () => {});
    this.#socket.destroy();
  }

  #attach(socket: net.Socket): void {
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
  }

  #detach(socket: net.Socket): void {
    socket.off('data', this.#onData);
    socket.off('end', this.#onEnd);
    socket.off('error', this.#onError);
  }

  #parse(chunk: Buffer): void {
    const text = this.#partial + chunk.toString('latin1');
    let start = 0;
    for (let end = text.indexOf('\r\n'); end !== -1; end = text.indexOf('\r\n', start)) {
      const line = text.slice(start, end);
      start = end + 2;
      this.#lines.push(line.slice(4));
      // "250-" continues a reply; "250 " (or a bare "250") ends it.
      if (line.charCodeAt(3) !== 0x2d) {
        this.#deliver({ code: Number(line.slice(0, 3)), text: this.#lines.join('\n') });
        this.#lines = [];
      }
    }
    this.#partial = text.slice(start);
  }

  #deliver(reply: Reply): void {
    const waiter = this.#waiting.shift();
    if (waiter) waiter.resolve(reply);
    else this.#ready.push(reply);
  }

  #fail(error: Error): void {
    if (this.#failure) return;
    this.#failure = error;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(error);
  }
}
