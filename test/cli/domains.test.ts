/**
 * `mailroom domains add|verify|list` as child processes, against the store of
 * a running Mailroom and a loopback DNS server: the records to publish, a
 * verification that passes only once DNS holds them (exit 0 only then), and
 * the running service accepting the domain as a sender right after.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { startTestMailroom, type TestMailroom } from '../support/mailroom.ts';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.ts';
import { cliEnv, runCli, runCliJson } from '../support/cli.ts';
import { openDialogue } from '../support/smtp-dialogue.ts';
import { EXIT } from '../../src/cli/context.ts';
import { createAccount, getAccountByEmail } from '../../src/accounts/accounts.ts';
import { addDomain, deleteDomain, getDomainRow } from '../../src/domains/domains.ts';
import type { DnsRecordToPublish } from '../../src/domains/records.ts';
import { Replies, formatReply } from '../../src/smtp/replies.ts';

interface AddedJson { domain: { name: string; verified: boolean }; records: DnsRecordToPublish[] }
interface VerifyJson {
  domain: string;
  verified: boolean;
  records: Array<{ purpose: string; type: string; name: string; expected: string; found: string[]; ok: boolean; error?: string }>;
}
interface ErrorJson { error: { code: string; message: string } }

describeEachStore('mailroom domains (CLI)', (engine) => {
  let mailroom: TestMailroom;
  let dns: TestDnsServer;
  let env: NodeJS.ProcessEnv;
  let owner: { email: string; secret: string };
  let other: string;
  let records: DnsRecordToPublish[] = [];

  before(async () => {
    mailroom = await startTestMailroom(engine, { MAILROOM_ROLES: 'smtp' });
    dns = await startDnsServer();
    // The CLI works on the store of the running service, as an operator's would.
    env = cliEnv(mailroom.database, { MAILROOM_DNS_SERVERS: dns.address });
    const created = await createAccount(mailroom.running.store, { email: 'owner@shop.example', dailyLimit: 100 });
    owner = { email: created.account.email, secret: created.key.secret };
    other = (await createAccount(mailroom.running.store, { email: 'other@else.example', dailyLimit: 100 })).account.id;
  });
  after(async () => {
    await dns?.close();
    await mailroom?.stop();
  });

  it('domains add --json prints the domain, unverified, and the records to publish', async () => {
    const added = await runCliJson<AddedJson>(['domains', 'add', 'Shop.Example', '--account', owner.email], env);
    assert.equal(added.code, EXIT.ok, added.output);
    assert.deepEqual(added.json.domain, { name: 'shop.example', verified: false });
    records = added.json.records;
    assert.deepEqual(records.map((r) => [r.purpose, r.type]), [['dkim', 'TXT'], ['spf', 'TXT'], ['return-path', 'CNAME'], ['dmarc', 'TXT']]);
    const byPurpose = Object.fromEntries(records.map((r) => [r.purpose, r]));
    assert.match(byPurpose.dkim.name, /^mr\d{6}\._domainkey\.shop\.example$/);
    assert.match(byPurpose.dkim.value, /^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]{300,}$/);
    assert.deepEqual(byPurpose.spf, { purpose: 'spf', type: 'TXT', name: 'shop.example', value: 'v=spf1 a:mailroom.test ~all' });
    assert.deepEqual(byPurpose['return-path'], { purpose: 'return-path', type: 'CNAME', name: 'bounces.shop.example', value: 'mailroom.test' });
  });

  it('domains add marks the SPF and return-path records not usable yet when MAILROOM_HOSTNAME is a bare name', async () => {
    const bare = { ...env, MAILROOM_HOSTNAME: 'vm' };
    const text = await runCli(['domains', 'add', 'bare.example', '--account', owner.email], bare);
    assert.equal(text.code, EXIT.ok, text.output);
    assert.match(text.stdout, /spf +TXT +bare\.example +v=spf1 a:vm ~all\n +NOT USABLE YET — Not usable yet: "vm" is not a fully qualified name.*MAILROOM_HOSTNAME=mail\.example\.com/);
    assert.match(text.stdout, /return-path +CNAME +bounces\.bare\.example +vm\n +NOT USABLE YET/);
    const json = await runCliJson<AddedJson>(['domains', 'verify', 'bare.example'], bare);
    const host = (json.json as unknown as VerifyJson).records.find((r) => r.purpose === 'server-host');
    assert.equal(host?.ok, false);
    assert.match(host?.error ?? '', /"vm" is not a fully qualified name/);
    // Gone again, so the listing below sees only the suite's own domains.
    await deleteDomain(mailroom.running.store, await getDomainRow(mailroom.running.store, 'bare.example', null));
  });

  it('domains verify says which DNS questions it is still waiting for', async () => {
    await addDomain(mailroom.running.store, (await getAccountByEmail(mailroom.running.store, owner.email)).id, 'slow.example', mailroom.config.hostname);
    dns.failWith('slow.example', 'TIMEOUT');
    try {
      const result = await runCli(['domains', 'verify', 'slow.example'], env);
      assert.equal(result.code, EXIT.failed, result.output);
      assert.match(result.stderr, /^ {2}still waiting \(\d+ s\) for .*TXT slow\.example/m);
      assert.match(result.stderr, /^ {2}no answer {2}TXT slow\.example \(\d+ ms\)$/m);
    } finally {
      dns.failWith('slow.example', null);
      await deleteDomain(mailroom.running.store, await getDomainRow(mailroom.running.store, 'slow.example', null));
    }
  });

  it('refuses a duplicate (4), a malformed name (2), unknown accounts and domains (3); verify fails (1) before DNS has the records', async () => {
    const cases: Array<[string[], number, string | null]> = [
      [['domains', 'add', 'shop.example', '--account', owner.email, '--json'], EXIT.conflict, 'domain_exists'],
      [['domains', 'add', 'not a domain', '--account', owner.email, '--json'], EXIT.invalid, 'invalid_domain'],
      [['domains', 'add', 'new.example', '--account', 'nobody@else.example', '--json'], EXIT.notFound, 'unknown_account'],
      [['domains', 'verify', 'unknown.example', '--json'], EXIT.notFound, 'unknown_domain'],
      [['domains', 'verify', 'shop.example', '--json'], EXIT.failed, null],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args, env)));
    results.forEach((result, i) => {
      const [args, code, errorCode] = cases[i];
      assert.equal(result.code, code, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
      if (errorCode) assert.equal((JSON.parse(result.stdout) as ErrorJson).error.code, errorCode, args.join(' '));
    });
    const unpublished = JSON.parse(results[4].stdout) as VerifyJson;
    assert.equal(unpublished.domain, 'shop.example');
    assert.equal(unpublished.verified, false);
    // The last check is the server's own name (mailroom.test), which this DNS server has no address for yet.
    assert.deepEqual(unpublished.records.map((r) => [r.purpose, r.ok]), [['dkim', false], ['spf', false], ['return-path', false], ['dmarc', false], ['server-host', false]]);
    for (const record of unpublished.records) {
      assert.deepEqual(Object.keys(record).sort(), ['error', 'expected', 'found', 'name', 'ok', 'purpose', 'type']);
      assert.ok(record.error && record.error.length > 10, `${record.purpose} says what is wrong`);
    }
    assert.equal(unpublished.records[0].expected, records[0].value);
  });

  it('domains verify exits 0 only once DNS holds the records, and the service then takes mail from the domain', async () => {
    const sender = await openDialogue(mailroom.port('submission'));
    try {
      await sender.ehlo();
      assert.equal(await sender.authPlain(owner.email, owner.secret), '235 2.7.0 Authentication successful');
      assert.equal(await sender.say('MAIL FROM:<news@shop.example>'), formatReply(Replies.senderDomainNotVerified('shop.example')));
      assert.equal(await sender.say('RSET'), '250 2.0.0 Flushed');

      // DKIM alone is not enough: the words say which records are still missing.
      dns.publish(records.filter((r) => r.purpose === 'dkim'));
      const partial = await runCli(['domains', 'verify', 'shop.example'], env);
      assert.equal(partial.code, EXIT.failed, partial.output);
      assert.match(partial.stdout, /^shop\.example: NOT verified$/m);
      assert.match(partial.stdout, /^ {2}ok {3}dkim/m);
      assert.match(partial.stdout, /^ {2}FAIL spf .*\n {7}No SPF record \(v=spf1\) found at shop\.example/m);
      // While it waits, a person sees which DNS server is asked and each question answered (on stderr).
      assert.match(partial.stderr, new RegExp(`^Asking DNS \\(${dns.address.replace(/[.]/g, '\\.')}\\) for the domain's records…$`, 'm'));
      assert.match(partial.stderr, /^ {2}answered {2}TXT [^ ]+\._domainkey\.shop\.example \(\d+ ms\)$/m);
      assert.match(partial.stderr, /^ {2}answered {2}TXT shop\.example \(\d+ ms\)$/m);

      dns.publish(records);
      dns.set('mailroom.test', 'A', '127.0.0.1');
      const verified = await runCliJson<VerifyJson>(['domains', 'verify', 'shop.example'], env);
      assert.equal(verified.code, EXIT.ok, verified.output);
      assert.equal(verified.json.verified, true);
      assert.ok(verified.json.records.every((r) => r.ok && r.error === undefined));
      assert.deepEqual(verified.json.records.find((r) => r.purpose === 'spf')!.found, ['v=spf1 a:mailroom.test ~all']);

      assert.equal(await sender.say('MAIL FROM:<news@shop.example>'), '250 2.1.0 Accepted');
    } finally {
      sender.close();
    }
  });

  it('domains list --json shows every domain, or one account\'s', async () => {
    await addDomain(mailroom.running.store, other, 'else.example', mailroom.config.hostname);
    const [all, mine] = await Promise.all([
      runCliJson<Array<{ name: string; verified: boolean; verifiedBy: string | null; dkimSelector: string; returnPathDomain: string; createdAt: string }>>(['domains', 'list'], env),
      runCliJson<Array<{ name: string }>>(['domains', 'list', '--account', owner.email], env),
    ]);
    assert.equal(all.code, EXIT.ok, all.output);
    assert.deepEqual(all.json.map((d) => [d.name, d.verified, d.verifiedBy]), [['else.example', false, null], ['shop.example', true, 'dns']]);
    assert.equal(all.json[1].returnPathDomain, 'bounces.shop.example');
    assert.deepEqual(mine.json.map((d) => d.name), ['shop.example']);
  });
});
