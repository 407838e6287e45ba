/**
 * src/smtp/library.ts reaches into smtp-server's private members. This test
 * fails loudly, naming the member, when an smtp-server other than the pinned
 * one no longer has them — instead of a patch silently doing nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, Server as NetServer, Socket } from 'node:net';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { PATCHED_PROTOTYPE_MEMBERS, PATCHED_SERVER_PROTOTYPE_MEMBERS, SMTPServer } from '../../src/smtp/library.ts';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

const require = createRequire(import.meta.url);

test('smtp-server is pinned to the exact version the patches were written for', () => {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
  const pinned = manifest.dependencies['smtp-server'];
  assert.match(pinned, /^\d+\.\d+\.\d+$/, `package.json must pin smtp-server exactly (no ^ or ~), found "${pinned}"`);
  const installed = (require('smtp-server/package.json') as { version: string }).version;
  assert.equal(installed, pinned, `installed smtp-server ${installed} is not the pinned ${pinned} that src/smtp/library.ts was written for`);
});

test('every SMTPConnection method library.ts patches or calls exists', () => {
  const proto = SMTPConnection.prototype as unknown as Record<string, unknown>;
  for (const name of PATCHED_PROTOTYPE_MEMBERS) assert.equal(typeof proto[name], 'function', `SMTPConnection.prototype.${name} is gone: src/smtp/library.ts patches it`);
  const serverProto = SMTPServer.prototype as unknown as Record<string, unknown>;
  for (const name of PATCHED_SERVER_PROTOTYPE_MEMBERS) assert.equal(typeof serverProto[name], 'function', `SMTPServer.prototype.${name} is gone: src/smtp/library.ts patches it`);
});

test('every per-connection and server field library.ts reads exists on a live connection', async () => {
  const server = new SMTPServer({ disableReverseLookup: true, authOptional: true, logger: false });
  const internals = server as unknown as { server: unknown; connections: unknown };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = ((internals.server as NetServer).address() as { port: number }).port;
  const client: Socket = connect(port, '127.0.0.1');
  try {
    await once(client, 'data'); // the greeting: the connection is set up
    assert.ok(internals.server instanceof NetServer, 'SMTPServer.server (the net.Server) is gone: closeGracefully stops accepting through it');
    assert.ok(internals.connections instanceof Set, 'SMTPServer.connections is gone: closeGracefully answers open sessions through it');
    const [connection] = [...(internals.connections as Set<Record<string, unknown>>)];
    assert.ok(connection, 'no connection in SMTPServer.connections');
    assert.ok(connection._socket instanceof Socket, 'SMTPConnection._socket is gone: replies are corked through it');
    assert.equal(typeof connection._upgrading, 'boolean', 'SMTPConnection._upgrading is gone: the cork must not cross a TLS upgrade');
    assert.ok('_dataStream' in connection, 'SMTPConnection._dataStream is gone: closeGracefully lets a transfer finish by it');
    const options = (connection._server as { options?: Record<string, unknown> } | undefined)?.options;
    assert.ok(options && Array.isArray(options.disabledCommands), 'SMTPConnection._server.options.disabledCommands is gone: AUTH is hidden before TLS through it');
    assert.equal(typeof connection.session, 'object', 'SMTPConnection.session is gone');
  } finally {
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
