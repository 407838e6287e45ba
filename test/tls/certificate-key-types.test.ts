/**
 * The generated certificate comes as RSA and ECDSA P-256 for the same name,
 * served together: a client that can verify ECDSA gets the ECDSA one (a far
 * cheaper handshake for the server), one limited to RSA still gets RSA. A
 * client that reconnects resumes its TLS session (session tickets), on the
 * implicit TLS port and after STARTTLS.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';

const RSA_ONLY = 'rsa_pss_rsae_sha256:rsa_pkcs1_sha256';

interface Handshake {
  keyType: string | undefined;
  names: string | undefined;
  reused: boolean;
  session: Buffer;
}

/** Reads one CRLF-terminated reply line set ending in a final line. */
function readReply(socket: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (/(^|\r\n)\d{3} [^\r\n]*\r\n$/.test(text)) {
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

/** TLS on `socket` (fresh, or after STARTTLS); waits for the greeting or EHLO reply so the session ticket has arrived. */
async function secure(socket: net.Socket | null, port: number, options: { sigalgs?: string; session?: Buffer }, implicit: boolean): Promise<Handshake> {
  const client = tls.connect({ ...(socket ? { socket } : { host: '127.0.0.1', port }), rejectUnauthorized: false, servername: 'mailroom.test', ...options });
  // TLS 1.3 sends the session ticket after the handshake; it is what a reconnecting client presents.
  const ticket = new Promise<Buffer>((resolve) => client.once('session', resolve));
  await new Promise<void>((resolve, reject) => client.once('secureConnect', () => resolve()).once('error', reject));
  const reply = readReply(client);
  if (!implicit) client.write('EHLO client.test\r\n');
  assert.match(await reply, implicit ? /^220 / : /^250/m);
  const certificate = client.getPeerX509Certificate();
  const reused = client.isSessionReused();
  const session = reused ? options.session! : await ticket;
  const handshake = { keyType: certificate?.publicKey.asymmetricKeyType, names: certificate?.subjectAltName, reused, session };
  client.end('QUIT\r\n');
  client.destroy();
  return handshake;
}

async function implicitTls(port: number, options: { sigalgs?: string; session?: Buffer } = {}): Promise<Handshake> {
  return secure(null, port, options, true);
}

async function startTls(port: number, options: { sigalgs?: string; session?: Buffer } = {}): Promise<Handshake> {
  const raw = net.connect({ host: '127.0.0.1', port });
  await new Promise((resolve, reject) => raw.once('connect', resolve).once('error', reject));
  let reply = readReply(raw);
  assert.match(await reply, /^220 /);
  reply = readReply(raw);
  raw.write('EHLO client.test\r\n');
  await reply;
  reply = readReply(raw);
  raw.write('STARTTLS\r\n');
  assert.match(await reply, /^220 /);
  return secure(raw, port, options, false);
}

describeEachStore('certificate key types and resumption', (engine) => {
  let mailroom: TestMailroom;
  before(async () => {
    mailroom = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp' });
  });
  after(() => mailroom?.stop());

  it('presents ECDSA to a client that can use it and RSA to one that cannot, both for the hostname', async () => {
    for (const open of [implicitTls, startTls]) {
      const port = mailroom.port(open === implicitTls ? 'submissions' : 'submission');
      const preferred = await open(port);
      assert.equal(preferred.keyType, 'ec');
      assert.equal(preferred.names, 'DNS:mailroom.test');
      const rsaOnly = await open(port, { sigalgs: RSA_ONLY });
      assert.equal(rsaOnly.keyType, 'rsa');
      assert.equal(rsaOnly.names, 'DNS:mailroom.test');
    }
  });

  it('resumes the TLS session of a client that reconnects, on the implicit TLS port and after STARTTLS', async () => {
    for (const open of [implicitTls, startTls]) {
      const port = mailroom.port(open === implicitTls ? 'submissions' : 'submission');
      const first = await open(port);
      assert.equal(first.reused, false);
      // Several times: with MAILROOM_SMTP_THREADS each reconnection may land on another thread.
      for (let i = 0; i < 6; i++) {
        const again = await open(port, { session: first.session });
        assert.equal(again.reused, true, `${open.name}: reconnection ${i + 1} resumes the first session`);
      }
    }
  });
});
