/**
 * The first start on an empty store can be two processes at once: the
 * service and an operator's `mailroom accounts create`, or two CLI commands
 * of a provisioning script. Both must migrate-or-wait, never fail.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore, createTestDatabase } from '../support/stores.ts';
import { execFile } from 'node:child_process';
import { CLI, cliEnv } from '../support/cli.ts';

/** Not through runCli: its limit of one child per core would start them one after the other. */
function runAtOnce(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: 60_000 }, (error, _stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stderr });
    });
  });
}

describeEachStore('two processes opening a fresh store at once', (engine) => {
  it('both succeed: the migrations run once and the other process waits for them', async () => {
    const database = await createTestDatabase(engine);
    try {
      const env = cliEnv(database);
      const results = await Promise.all([
        runAtOnce(['accounts', 'list', '--json'], env), runAtOnce(['domains', 'list', '--json'], env), runAtOnce(['keys', 'revoke', 'none', '--json'], env),
      ]);
      assert.deepEqual(results.map((r) => r.code), [0, 0, 3], results.map((r) => r.stderr).join(''));
    } finally {
      await database.drop();
    }
  });
});
