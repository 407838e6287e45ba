/**
 * The client side of one SMTP connection, as thin as it can be: writes what
 * it is given and hands back whole replies (multi-line ones joined) in order.
 * Reading replies in order is all pipelining needs: the server answers
 * pipelined commands one by one, in the order they were sent.
 */
import net from 'node:net';
import tls from 'node:tls';

/**
 * One TLS context for every connection of the generator, as a long-running
 * client keeps one: without it each handshake first builds a context, which
 * costs the client more than the handshake and competes with the server for
 * the same cores. It changes nothing on the server's side.
 */
let sharedContext: tls.SecureContext | null = null;

export interface Reply {
  code: number;
  /** Every line of the reply, without its code, joined with \n. */
  text: string;
}

export class SmtpWire {
  /** The key type of the certificate the server presented ('ec' or 'rsa'), once TLS is up. */
  tlsKeyType: string | null = null;
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

  /**
   * Call after the server's 220 to STARTTLS; later reads and writes go through TLS.
   * `session`: a ticket from an earlier connection to resume (as Gmail does); resolves
   * with whether it was resumed, and `onTicket` gets the server's new ticket.
   */
  async startTls(options: { session?: Buffer; onTicket?: (ticket: Buffer) => void } = {}): Promise<boolean> {
    this.#detach(this.#socket);
    const plain = this.#socket;
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      // The servers under test present a throwaway self-signed certificate.
      sharedContext ??= tls.createSecureContext({});
      const socket = tls.connect({ socket: plain, rejectUnauthorized: false, secureContext: sharedContext, session: options.session }, () => {
        socket.off('error', reject);
        resolve(socket);
      });
      socket.once('error', reject);
      if (options.onTicket) socket.on('session', options.onTicket);
    });
    this.#socket = secure;
    this.#attach(secure);
    this.tlsKeyType ??= secure.getPeerX509Certificate()?.publicKey.asymmetricKeyType ?? null;
    return secure.isSessionReused();
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
