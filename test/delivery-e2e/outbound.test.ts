/**
 * How mail leaves, proven with real peers on loopback. Where it goes (RFC 5321
 * 5.1, RFC 7505): MX preference with fallback, equal preferences sharing the
 * load, the implicit MX, and a null MX bouncing at once with a DSN back to the
 * sender. How it travels: one transaction for a message's recipients on one
 * domain, one connection reused across messages, opportunistic STARTTLS
 * recorded on the attempt, and plaintext to a peer that offers no TLS.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEachStore } from '../support/stores.ts';
import { routeDomainToPeer, startDeliveryWorld, type DeliveryWorld } from '../support/delivery-world.ts';
import { findSuppression } from '../../src/suppressions/suppressions.ts';
import { burstSender, dsnsTo, freshLoopbackAddress, headerOf, routeDomainTo, startExtraPeer, statusesOf, waitForMessage, type ExtraPeer } from '../support/delivery.ts';
import { waitFor } from '../support/wait.ts';

describeEachStore('outbound delivery', (engine) => {
  let world: DeliveryWorld;
  const extras: ExtraPeer[] = [];
  before(async () => {
    world = await startDeliveryWorld(engine);
    routeDomainToPeer(world.dns, world.sender.domain); // DSNs to the sender arrive at the main peer
  });
  after(async () => {
    for (const extra of extras) await extra.close();
    await world?.close();
  });

  test('the preferred MX refusing connections: the next MX by preference gets the message', async () => {
    const closedIp = freshLoopbackAddress(); // nothing listens there: connection refused
    world.dns.set('fallback.example', 'MX', [{ exchange: 'backup.fallback.example', priority: 20 }, { exchange: 'primary.fallback.example', priority: 10 }]);
    world.dns.set('primary.fallback.example', 'A', closedIp);
    world.dns.set('backup.fallback.example', 'A', '127.0.0.1');
    const id = await world.send({ to: 'someone@fallback.example' });
    const message = await waitForMessage(world.mailroom.running.store, id, (m) => m.recipients[0].status === 'delivered');
    const [attempt] = message.recipients[0].attempts;
    assert.equal(message.recipients[0].attempts.length, 1, 'one attempt: the fallback is part of it');
    assert.equal(attempt.mx, 'backup.fallback.example');
    assert.equal(attempt.ip, '127.0.0.1');
    assert.ok(world.mx.received.some((m) => m.rcptTo.includes('someone@fallback.example')));
  });

  test('MX hosts of equal preference share the mail', async () => {
    const a = await startExtraPeer(world.mx.port);
    const b = await startExtraPeer(world.mx.port);
    extras.push(a, b);
    world.dns.set('spread.example', 'MX', [{ exchange: 'a.spread.example', priority: 10 }, { exchange: 'b.spread.example', priority: 10 }]);
    world.dns.set('a.spread.example', 'A', a.ip);
    world.dns.set('b.spread.example', 'A', b.ip);
    const count = 16; // both MX hosts chosen with probability 1 - 2^-15
    const burst = burstSender(world.mailroom.port('submission'), world.sender);
    await Promise.all(Array.from({ length: count }, (_, i) => burst.send({ to: `r${i}@spread.example` })));
    burst.close();
    await waitFor('every message to arrive', () => a.peer.received.length + b.peer.received.length >= count);
    assert.equal(a.peer.received.length + b.peer.received.length, count);
    assert.ok(a.peer.received.length > 0 && b.peer.received.length > 0, `a got ${a.peer.received.length}, b got ${b.peer.received.length}`);
  });

  test('a domain without MX records gets its mail at its A address (implicit MX)', async () => {
    world.dns.set('implicit.example', 'A', '127.0.0.1');
    const id = await world.send({ to: 'someone@implicit.example' });
    const message = await waitForMessage(world.mailroom.running.store, id, (m) => m.recipients[0].status === 'delivered');
    assert.equal(message.recipients[0].attempts[0].mx, 'implicit.example');
    assert.ok(world.mx.received.some((m) => m.rcptTo.includes('someone@implicit.example')));
  });

  test('a null MX bounces at once, without retries, and the sender gets a DSN', async () => {
    world.dns.set('nullmx.example', 'MX', { exchange: '.', priority: 0 });
    world.dns.set('nullmx.example', 'A', '127.0.0.1'); // an A record must not be used as implicit MX
    const id = await world.send({ to: 'nobody@nullmx.example', subject: 'To a null MX' });
    const message = await waitForMessage(world.mailroom.running.store, id, (m) => m.recipients[0].status !== 'queued');
    assert.deepEqual(statusesOf(message), { 'nobody@nullmx.example': 'bounced' });
    assert.equal(message.recipients[0].attempts.length, 1);
    assert.match(message.recipients[0].attempts[0].reply, /null MX/);
    assert.equal(world.mx.received.filter((m) => m.rcptTo.includes('nobody@nullmx.example')).length, 0);

    const [dsn] = await waitFor('the DSN', () => {
      const found = dsnsTo(world.mx, world.sender.email).filter((m) => m.raw.toString().includes('nobody@nullmx.example'));
      return found.length > 0 ? found : null;
    });
    assert.match(headerOf(dsn.raw, 'Content-Type') ?? '', /multipart\/report; report-type=delivery-status/);
    assert.match(dsn.raw.toString(), /Final-Recipient: rfc822; nobody@nullmx\.example\r\nAction: failed\r\nStatus: 5\./);
    assert.ok(await findSuppression(world.mailroom.running.store.db, world.sender.accountId, 'nobody@nullmx.example'), 'a domain that accepts no mail is suppressed');
  });

  test('the recipients of one message on one domain go in one SMTP transaction', async () => {
    const extra = await startExtraPeer(world.mx.port);
    extras.push(extra);
    routeDomainTo(world.dns, 'onetx.example', extra.ip);
    const recipients = ['a@onetx.example', 'b@onetx.example', 'c@onetx.example'];
    const id = await world.send({ to: recipients });
    const message = await waitForMessage(world.mailroom.running.store, id, (m) => m.recipients.every((r) => r.status === 'delivered'));
    assert.equal(extra.peer.received.length, 1);
    assert.deepEqual([...extra.peer.received[0].rcptTo].sort(), recipients);
    assert.equal(extra.peer.connections, 1);
    assert.ok(message.recipients.every((r) => r.attempts.length === 1));
  });

  test('one connection carries message after message to the same MX', async () => {
    const extra = await startExtraPeer(world.mx.port);
    extras.push(extra);
    routeDomainTo(world.dns, 'reuse.example', extra.ip);
    const burst = burstSender(world.mailroom.port('submission'), world.sender);
    for (let i = 1; i <= 4; i++) {
      await burst.send({ to: `r${i}@reuse.example` });
      await extra.peer.waitFor(i);
    }
    burst.close();
    assert.equal(extra.peer.connections, 1, 'the session idles in the pool between messages and is reused');
  });

  test('STARTTLS is used when offered and recorded on the attempt', async () => {
    routeDomainToPeer(world.dns, 'tls.example');
    const id = await world.send({ to: 'someone@tls.example' });
    const message = await waitForMessage(world.mailroom.running.store, id, (m) => m.recipients[0].status === 'delivered');
    const [attempt] = message.recipients[0].attempts;
    assert.equal(attempt.tls?.used, true);
    assert.match(attempt.tls?.version ?? '', /^TLSv1\.[23]$/);
    assert.equal(attempt.tls?.authorized, false, "the peer's self-signed certificate does not verify, and that is recorded, not fatal");
    const received = world.mx.received.find((m) => m.rcptTo.includes('someone@tls.example'));
    assert.equal(received?.tls, true);
  });

  test('a peer that offers no TLS still gets the mail, in plaintext', async () => {
    const extra = await startExtraPeer(world.mx.port, { offerTls: false });
    extras.push(extra);
    routeDomainTo(world.dns, 'notls.example', extra.ip);
    const id = await world.send({ to: 'someone@notls.example' });
    const message = await waitForMessage(world.mailroom.running.store, id, (m) => m.recipients[0].status === 'delivered');
    assert.deepEqual(message.recipients[0].attempts[0].tls, { used: false });
    assert.equal(extra.peer.received[0].tls, false);
  });
});
