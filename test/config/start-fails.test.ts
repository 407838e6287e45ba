/**
 * `mailroom start` with a bad configuration stops at once, non-zero, with a
 * message naming the variable (or flag) and the value, for the right reason;
 * and a TLS certificate it cannot use, or a port it cannot bind, is named too.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import selfsigned from 'selfsigned';
import { cliEnv, runCli } from '../support/cli.ts';
import { EXIT } from '../../src/cli/context.ts';
import { openStore } from '../../src/store/database.ts';

describe('mailroom start refuses a bad configuration', () => {
  let dir: string;
  let env: (extra: Record<string, string>) => NodeJS.ProcessEnv;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mailroom-config-'));
    // Migrated once here: the children below start together (see test/durability/first-start.test.ts).
    await (await openStore(`sqlite:${join(dir, 'mailroom.db')}`)).close();
    env = (extra) => cliEnv({ url: `sqlite:${join(dir, 'mailroom.db')}`, dataDir: dir }, {
      MAILROOM_ROLES: 'smtp', MAILROOM_SMTP_HOST: '127.0.0.1', MAILROOM_SMTP_PORT: '0', MAILROOM_SMTPS_PORT: 'off', ...extra,
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('names the variable and value (or the flag) and exits 2 before opening anything', async () => {
    const [port, flag, tls] = await Promise.all([
      runCli(['start'], env({ MAILROOM_SMTP_PORT: '99999' })),
      runCli(['start', '--max-message-size', '25XB'], env({})),
      runCli(['start'], env({ MAILROOM_TLS_CERT: join(dir, 'cert.pem') })),
    ]);
    assert.equal(port.code, EXIT.invalid);
    assert.equal(port.stderr, 'mailroom: MAILROOM_SMTP_PORT="99999" is invalid: must be a port number (0-65535)\n');
    assert.doesNotMatch(port.output, /Mailroom is running/);
    assert.equal(flag.code, EXIT.invalid);
    assert.equal(flag.stderr, 'mailroom: --max-message-size="25XB" is invalid: must be a size such as 25MB, 512KB or 1048576\n');
    assert.equal(tls.code, EXIT.invalid);
    assert.match(tls.stderr, /^mailroom: MAILROOM_TLS_CERT=".*cert\.pem" is set but MAILROOM_TLS_KEY is not/);
  });

  it('names a TLS certificate file it cannot read, or whose key does not match', async () => {
    const { cert } = await selfsigned.generate([{ name: 'commonName', value: 'mail.example' }], { keySize: 2048 });
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    writeFileSync(join(dir, 'cert.pem'), cert);
    writeFileSync(join(dir, 'other-key.pem'), otherKey);
    const [missing, mismatched] = await Promise.all([
      // Two nodes starting at once on one store need their own ids.
      runCli(['start'], env({ MAILROOM_NODE_ID: 'missing-cert', MAILROOM_TLS_CERT: join(dir, 'nope.pem'), MAILROOM_TLS_KEY: join(dir, 'other-key.pem') })),
      runCli(['start'], env({ MAILROOM_NODE_ID: 'mismatched-key', MAILROOM_TLS_CERT: join(dir, 'cert.pem'), MAILROOM_TLS_KEY: join(dir, 'other-key.pem') })),
    ]);
    assert.notEqual(missing.code, EXIT.ok);
    assert.match(missing.stderr, /^mailroom: MAILROOM_TLS_CERT=".*nope\.pem" /);
    assert.notEqual(mismatched.code, EXIT.ok);
    assert.match(mismatched.stderr, /^mailroom: MAILROOM_TLS_KEY=".*other-key\.pem" .*does not match.*MAILROOM_TLS_CERT/);
  });

  it('names the address when the SMTP port is taken', async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const { port } = squatter.address() as net.AddressInfo;
    try {
      const result = await runCli(['start'], env({ MAILROOM_SMTP_PORT: String(port) }));
      assert.equal(result.code, EXIT.failed);
      assert.match(result.stderr, new RegExp(`EADDRINUSE.*127\\.0\\.0\\.1:${port}`));
    } finally {
      squatter.close();
    }
  });
});
