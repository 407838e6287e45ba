/**
 * `mailroom accounts …` and `mailroom keys …` run as child processes against
 * a test database: the JSON shapes scripts rely on, exit codes (EXIT in
 * src/cli/context.ts), and errors for unknown accounts and malformed input.
 * Whether a printed secret really logs in is checked against the store.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore, createTestDatabase, type TestDatabase } from '../support/stores.ts';
import { cliEnv, runCli, runCliJson } from '../support/cli.ts';
import { EXIT } from '../../src/cli/context.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { checkSecretKey } from '../support/keys.ts';
import { addDomain } from '../../src/domains/domains.ts';

interface CreatedJson {
  account: { id: string; email: string; dailyLimit: number };
  key: { id: string; name: string; secret: string };
  password?: string;
}
interface ErrorJson { error: { code: string; message: string; field?: string } }
interface KeyJson { id: string; name: string; secret: string; createdAt: string }
interface KeyListJson { id: string; name: string; hint: string; createdAt: string; lastUsedAt: string | null; lastUsedIp: string | null; revokedAt: string | null; sentLast24h: number; scope: { channel: string } }

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describeEachStore('mailroom accounts and keys (CLI)', (engine) => {
  let database: TestDatabase;
  let env: NodeJS.ProcessEnv;
  let store: Store;

  before(async () => {
    database = await createTestDatabase(engine);
    env = cliEnv(database, { MAILROOM_DEFAULT_DAILY_LIMIT: '77' });
    store = await openStore(database.url);
  });
  after(async () => {
    await store?.close();
    await database?.drop();
  });

  it('accounts create --json prints the account and its first key, and the secret logs in, while the store is busy', async () => {
    // A writer holding the store meanwhile, as the running service does: the CLI shares the store.
    const busy = (async () => {
      for (let i = 0; i < 20; i++) await store.db.insertInto('settings').values({ key: `busy-${i}`, value: 'x' }).execute();
    })();
    const [withLimit, withDefault, human] = await Promise.all([
      runCliJson<CreatedJson>(['accounts', 'create', 'Dev@Apps.Example', '--daily-limit', '250'], env),
      runCliJson<CreatedJson>(['accounts', 'create', 'ops@apps.example', '--password', 'a long dashboard password'], env),
      runCli(['accounts', 'create', 'human@apps.example'], env),
      busy,
    ]);
    assert.equal(withLimit.code, EXIT.ok, withLimit.output);
    const { account, key } = withLimit.json;
    assert.deepEqual(Object.keys(account).sort(), ['dailyLimit', 'email', 'id']);
    assert.deepEqual(Object.keys(key).sort(), ['id', 'name', 'secret']);
    assert.equal(account.email, 'dev@apps.example', 'stored and shown in lower case');
    assert.equal(account.dailyLimit, 250);
    assert.equal(key.name, 'default');
    assert.match(key.secret, /^mr_[A-Za-z0-9_-]{32}$/);
    assert.equal(typeof withLimit.json.password, 'string', 'a generated dashboard password is shown once');

    assert.equal(withDefault.code, EXIT.ok, withDefault.output);
    assert.equal(withDefault.json.account.dailyLimit, 77, 'MAILROOM_DEFAULT_DAILY_LIMIT applies');
    assert.equal(withDefault.json.password, undefined, 'a password the operator chose is not echoed');

    // Without --json: words for the operator, with the SMTP username and the secret.
    assert.equal(human.code, EXIT.ok, human.output);
    assert.match(human.stdout, /^Created account human@apps\.example \(daily limit 77\)\.$/m);
    assert.match(human.stdout, /^SMTP username: human@apps\.example$/m);
    assert.match(human.stdout, /^Secret key \(SMTP password and API token; shown only now\): mr_\S+$/m);

    const check = await checkSecretKey(store, key.secret, 'dev@apps.example');
    assert.deepEqual(check, { ok: true, accountId: account.id, email: 'dev@apps.example', dailyLimit: 250, keyId: key.id });
  });

  it('names duplicates (4), unknown accounts and keys (3), and malformed input (2), creating nothing', async () => {
    // (Rules the library enforces — weak passwords, key names — are tested in test/accounts.)
    const cases: Array<[string[], number, string | null]> = [
      [['accounts', 'create', 'dev@apps.example', '--json'], EXIT.conflict, 'account_exists'],
      [['accounts', 'create', 'not-an-email', '--json'], EXIT.invalid, 'invalid_email'],
      [['accounts', 'create', 'x@apps.example', '--daily-limit', 'lots', '--json'], EXIT.invalid, 'invalid_daily-limit'],
      [['keys', 'create', '--account', 'nobody@apps.example', '--json'], EXIT.notFound, 'unknown_account'],
      [['keys', 'revoke', 'no-such-key', '--json'], EXIT.notFound, 'unknown_key'],
      [['keys', 'create'], EXIT.invalid, null],
      [['accounts', 'create', 'dev@apps.example'], EXIT.conflict, null],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args, env)));
    results.forEach((result, i) => {
      const [args, code, errorCode] = cases[i];
      assert.equal(result.code, code, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
      if (errorCode) {
        const { error } = JSON.parse(result.stdout) as ErrorJson;
        assert.equal(error.code, errorCode, args.join(' '));
        assert.ok(error.message.length > 0);
      }
    });
    assert.match(results[5].stderr, /required option '--account <email>' not specified/);
    assert.equal(results[6].stdout, '');
    assert.equal(results[6].stderr, 'mailroom: an account for dev@apps.example already exists\n');
    const rows = await store.db.selectFrom('accounts').select('email').where('email', '=', 'x@apps.example').execute();
    assert.deepEqual(rows, []);
  });

  it('keys create, list and revoke: shapes, the secret shown only once, and a revoked key stops working', async () => {
    const created = await runCliJson<KeyJson>(['keys', 'create', '--account', 'DEV@apps.example', '--name', 'ci runner'], env);
    assert.equal(created.code, EXIT.ok, created.output);
    assert.deepEqual(Object.keys(created.json).sort(), ['createdAt', 'id', 'name', 'secret']);
    assert.equal(created.json.name, 'ci runner');
    assert.match(created.json.createdAt, ISO);
    assert.equal((await checkSecretKey(store, created.json.secret, 'dev@apps.example')).ok, true);

    const revoked = await runCliJson<{ id: string; revoked: boolean }>(['keys', 'revoke', created.json.id], env);
    assert.equal(revoked.code, EXIT.ok, revoked.output);
    assert.deepEqual(revoked.json, { id: created.json.id, revoked: true });
    assert.deepEqual(await checkSecretKey(store, created.json.secret, 'dev@apps.example'), { ok: false, reason: 'revoked-key' });

    const listed = await runCliJson<KeyListJson[]>(['keys', 'list', '--account', 'dev@apps.example'], env);
    assert.equal(listed.code, EXIT.ok, listed.output);
    assert.deepEqual(listed.json.map((k) => k.name), ['default', 'ci runner']);
    const [first, ci] = listed.json;
    assert.equal(ci.id, created.json.id);
    assert.deepEqual(Object.keys(ci).sort(), ['createdAt', 'hint', 'id', 'lastUsedAt', 'lastUsedIp', 'name', 'revokedAt', 'scope', 'sentLast24h']);
    assert.equal(ci.lastUsedIp, '127.0.0.1', 'and from where');
    assert.equal(ci.scope.channel, 'full', 'a key made without scope flags may do everything');
    assert.equal(ci.hint, `…${created.json.secret.slice(-4)}`);
    assert.match(ci.revokedAt ?? '', ISO);
    assert.match(ci.lastUsedAt ?? '', ISO, 'the login check above was recorded');
    assert.equal(first.revokedAt, null);
    assert.ok(!JSON.stringify(listed.json).includes(created.json.secret), 'the list never shows a secret');
  });

  it('keys create with a scope: senders, limit, channel, ranges and expiry, and each bad flag named', async () => {
    const account = (await store.db.selectFrom('accounts').select('id').where('email', '=', 'dev@apps.example').executeTakeFirstOrThrow()).id;
    for (const name of ['x.example', 'y.com']) await addDomain(store, account, name, 'mailroom.test');
    const created = await runCliJson<KeyJson & { scope: unknown }>(['keys', 'create', '--account', 'dev@apps.example', '--from', 'a@x.example,y.com',
      '--daily-limit', '40', '--channel', 'smtp', '--ip', '1.2.3.0/24', '--expires', '2027-01-01'], env);
    assert.equal(created.code, EXIT.ok, created.output);
    assert.deepEqual(created.json.scope, { from: ['a@x.example', 'y.com'], dailyLimit: 40, channel: 'smtp', ipRanges: ['1.2.3.0/24'], expiresAt: '2027-01-01T00:00:00.000Z' });

    const cases: Array<[string[], string, string]> = [
      [['--from', 'a@elsewhere.example'], 'from_outside_account', 'from'],
      [['--ip', '1.2.3.0/24,300.1.1.1'], 'invalid_ip_range', 'ipRanges'],
      [['--channel', 'carrier-pigeon'], 'invalid_channel', 'channel'],
      [['--daily-limit', '1000'], 'invalid_daily_limit', 'dailyLimit'],
    ];
    const results = await Promise.all(cases.map(([flags]) => runCliJson<ErrorJson>(['keys', 'create', '--account', 'dev@apps.example', ...flags], env)));
    results.forEach((result, i) => {
      assert.equal(result.code, EXIT.invalid, result.output);
      assert.equal(result.json.error.code, cases[i][1]);
      assert.equal(result.json.error.field, cases[i][2]);
    });
  });
});
