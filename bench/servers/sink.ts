/**
 * The ceiling: the same SMTP library with Mailroom's own options and the same
 * AUTH methods, acknowledging every message as soon as its last byte arrived
 * and storing nothing. No SMTP server on this library can answer faster on
 * this machine, so Mailroom is reported as a share of it.
 */
import { loadConfig } from '../../src/config/load.ts';
import { loadTlsCredentials } from '../../src/tls/credentials.ts';
import { SMTPServer, type SMTPServerOptions } from '../../src/smtp/library.ts';
import { baseServerOptions, listen } from '../../src/smtp/listeners.ts';
import { Replies, SmtpReplyError, replyText } from '../../src/smtp/replies.ts';
import { serveInChild } from './protocol.ts';

const USER = 'owner@sink.example';
const PASSWORD = 'sink-secret';

serveInChild(async () => {
  const config = loadConfig(process.env);
  const tls = await loadTlsCredentials({ certFile: null, keyFile: null, dataDir: config.dataDir, hostname: config.hostname });
  const handlers: Partial<SMTPServerOptions> = {
    onAuth(auth, _session, callback) {
      if (auth.username === USER && auth.password === PASSWORD) return callback(null, { user: USER });
      callback(new SmtpReplyError(Replies.authFailed()));
    },
    onMailFrom(_address, _session, callback) { callback(); },
    onRcptTo(_address, _session, callback) { callback(); },
    onData(stream, _session, callback) {
      stream.on('data', () => {});
      stream.once('end', () => callback(null, replyText(Replies.queued('sink'))));
    },
  };
  const server = new SMTPServer({ ...baseServerOptions(config, tls), ...handlers });
  const listener = await listen('sink', server, config.smtpHost, 0, config);
  return {
    target: { host: listener.host, port: listener.port, user: USER, password: PASSWORD, mailFrom: 'app@sink.example', rcptTo: 'someone@recipient.example' },
    stop: () => listener.close(),
  };
});
