import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { acmeChallengeRoute } from '../../src/tls/acme-challenge-route.ts';
import { storedChallenges } from '../../src/tls/certificate-store.ts';
import { createTestStore, describeEachStore, type TestStore } from '../support/stores.ts';

describeEachStore('HTTP-01 challenge answers', (engine) => {
  let test: TestStore;
  const app = Fastify();
  before(async () => {
    test = await createTestStore(engine);
    await app.register(acmeChallengeRoute, { store: test.store });
  });
  after(async () => {
    await app.close();
    await test?.cleanup();
  });

  it('answers a stored challenge as plain text, and 404 once it is removed or unknown', async () => {
    const challenges = storedChallenges(test.store);
    await challenges.put('tok-EN_1', 'mail.example.test', 'tok-EN_1.thumbprint');
    const answer = await app.inject({ method: 'GET', url: '/.well-known/acme-challenge/tok-EN_1' });
    assert.equal(answer.statusCode, 200);
    assert.equal(answer.body, 'tok-EN_1.thumbprint');
    assert.match(String(answer.headers['content-type']), /^text\/plain/);
    await challenges.remove('tok-EN_1');
    assert.equal((await app.inject({ method: 'GET', url: '/.well-known/acme-challenge/tok-EN_1' })).statusCode, 404);
    assert.equal((await app.inject({ method: 'GET', url: '/.well-known/acme-challenge/..%2Fetc' })).statusCode, 404);
  });
});
