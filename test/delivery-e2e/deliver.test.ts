import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describeEachStore } from '../support/stores.ts';
import { waitFor } from '../support/wait.ts';
import { routeDomainToPeer, startDeliveryWorld, type DeliveryWorld } from '../support/delivery-world.ts';

const run = promisify(execFile);

/** Verifies a DKIM signature with Debian's python3-dkim, fetching the key from our test DNS server. */
async function dkimVerify(raw: Buffer, dnsAddress: string): Promise<boolean> {
  const [host, port] = dnsAddress.split(':');
  const script = `
import sys, dkim, dns.resolver
r = dns.resolver.Resolver(configure=False); r.nameservers=[${JSON.stringify(host)}]; r.port=${port}
def txt(name, timeout=5):
    name = name.decode() if isinstance(name, bytes) else name
    return b"".join(b"".join(a.strings) for a in r.resolve(name, "TXT"))
msg = open(sys.argv[1], "rb").read()
print("PASS" if dkim.verify(msg, dnsfunc=txt) else "FAIL")`;
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const file = join(mkdtempSync(join(tmpdir(), 'dkim-')), 'msg.eml');
  writeFileSync(file, raw);
  const { stdout } = await run('/usr/bin/python3', ['-c', script, file]);
  return stdout.trim() === 'PASS';
}

describeEachStore('delivery end to end', (engine) => {
  let world: DeliveryWorld;
  before(async () => { world = await startDeliveryWorld(engine); });
  after(async () => { await world?.close(); });

  test('a submitted message arrives at the MX with a DKIM signature an independent verifier accepts', async () => {
    routeDomainToPeer(world.dns, 'dest.example');
    const id = await world.send({ to: 'rcpt@dest.example', subject: 'Signed' });
    const [received] = await world.mx.waitFor(1, 10_000);
    assert.deepEqual(received.rcptTo, ['rcpt@dest.example']);
    assert.match(received.mailFrom, new RegExp(`^b\\+[a-z0-9]+\\.[a-z2-7]{8}@bounces\\.${world.sender.domain.replace('.', '\\.')}$`));
    assert.match(received.raw.toString(), /^DKIM-Signature: /);
    assert.equal(await dkimVerify(received.raw, world.dns.address), true);
    const row = await waitFor('the delivery to be delivered', async () => {
      const d = await world.mailroom.running.store.db.selectFrom('deliveries').selectAll().where('message_id', '=', id).executeTakeFirst();
      return d?.status === 'delivered' ? d : null;
    });
    assert.equal(row.attempt_count, 1);
  });
});
