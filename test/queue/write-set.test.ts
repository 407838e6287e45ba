/**
 * Write sets (queue/write-set.ts): each folder's writes merged into the node's one set
 * (src/write-operations.ts), and the order a batch runs them in.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { mergeWriteSets, operation, requestRunner, writeSet } from '../../src/queue/write-set.ts';
import { WRITES } from '../../src/write-operations.ts';
import { QUEUE_WRITES } from '../../src/queue/write-operations.ts';
import { EVENT_WRITES } from '../../src/events/event-writes.ts';
import { ACCOUNT_WRITES } from '../../src/accounts/account-writes.ts';
import { DOCTOR_WRITES } from '../../src/doctor/session-log-writes.ts';
import { RETENTION_WRITES } from '../../src/retention/retention-writes.ts';
import { createTestStore, describeEachStore, type TestStore } from '../support/stores.ts';

describeEachStore('write sets', (engine) => {
  let t: TestStore;
  before(async () => { t = await createTestStore(engine); });
  after(async () => { await t.cleanup(); });

  it('the node\'s set holds every folder\'s operations, with how PostgreSQL runs them', () => {
    const names = [QUEUE_WRITES, EVENT_WRITES, ACCOUNT_WRITES, DOCTOR_WRITES, RETENTION_WRITES].flatMap((set) => Object.keys(set.operations));
    assert.deepEqual(Object.keys(WRITES.operations).sort(), names.sort());
    assert.equal(WRITES.onPostgres?.claimWebhookDeliveries, 'single-statement');
    assert.equal(WRITES.onPostgres?.pruneUsage, 'own-transaction');
    assert.equal(WRITES.onPostgres?.commitSubmissions, undefined);
  });

  it('refuses two operations of one name', () => {
    const one = writeSet({ operations: { touchSecretKeys: operation(async () => {}) } });
    assert.throws(() => mergeWriteSets(ACCOUNT_WRITES, one), /two write operations are named touchSecretKeys/);
  });

  it('runs a batch in one order whatever order it was asked in, the set\'s last ones last, and answers in the order asked', async () => {
    const ran: string[] = [];
    const record = (name: string) => operation(async (_tx, _engine, args: { n: number }) => { ran.push(`${name}${args.n}`); return `${name}${args.n}`; });
    const set = mergeWriteSets(writeSet({ operations: { accept: record('accept'), claim: record('claim') }, last: ['accept'] }), writeSet({ operations: { note: record('note') } }));
    const run = requestRunner(set);
    const asked = [{ name: 'accept', args: { n: 1 } }, { name: 'note', args: { n: 2 } }, { name: 'claim', args: { n: 3 } }, { name: 'accept', args: { n: 4 } }];
    const answers = await t.store.db.transaction().execute((tx) => run(tx, t.store.engine, asked));
    assert.deepEqual(ran, ['claim3', 'note2', 'accept1', 'accept4']);
    assert.deepEqual(answers, ['accept1', 'note2', 'claim3', 'accept4']);
  });
});
