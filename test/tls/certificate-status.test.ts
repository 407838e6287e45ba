import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { certificateStatus } from '../../src/tls/certificate-status.ts';
import { createLeaf, createTestCa, type Pem } from '../support/test-certificates.ts';

const DAY = 24 * 60 * 60 * 1000;

describe('certificate status: whether Gmail accepts the certificate', () => {
  let ca: Pem;
  before(async () => {
    ca = await createTestCa();
  });

  it('accepts a CA-signed certificate for the host, and says who issued it and until when', async () => {
    const leaf = await createLeaf({ names: ['mail.example.test'], ca });
    const status = certificateStatus({ cert: leaf.cert, host: 'mail.example.test', caCerts: ca.cert });
    assert.equal(status.gmailAccepts, true);
    assert.deepEqual(status.problems, []);
    assert.equal(status.selfSigned, false);
    assert.equal(status.trusted, true);
    assert.equal(status.nameMatches, true);
    assert.deepEqual(status.names, ['mail.example.test']);
    assert.equal(status.issuer, 'Mailroom Tests (Mailroom Test Root)');
    assert.ok(status.daysLeft >= 88 && status.daysLeft <= 90, String(status.daysLeft));
  });

  it('refuses a self-signed certificate, and says how to get a real one', async () => {
    const leaf = await createLeaf({ names: ['mail.example.test'] });
    const status = certificateStatus({ cert: leaf.cert, host: 'mail.example.test', caCerts: leaf.cert });
    assert.equal(status.selfSigned, true);
    assert.equal(status.gmailAccepts, false);
    assert.match(status.problems.join(' '), /self-signed.*MAILROOM_ACME_EMAIL/);
  });

  it('refuses a certificate from an authority nobody trusts', async () => {
    const leaf = await createLeaf({ names: ['mail.example.test'], ca });
    const status = certificateStatus({ cert: leaf.cert, host: 'mail.example.test' });
    assert.equal(status.trusted, false);
    assert.equal(status.gmailAccepts, false);
    assert.match(status.problems.join(' '), /signed by Mailroom Tests \(Mailroom Test Root\), which is not an authority Gmail trusts/);
  });

  it('refuses a certificate for another name, naming both', async () => {
    const leaf = await createLeaf({ names: ['other.example.test', 'www.other.example.test'], ca });
    const status = certificateStatus({ cert: leaf.cert, host: 'mail.example.test', caCerts: ca.cert });
    assert.equal(status.nameMatches, false);
    assert.equal(status.gmailAccepts, false);
    assert.match(status.problems.join(' '), /is for other\.example\.test, www\.other\.example\.test, not for mail\.example\.test/);
  });

  it('refuses an expired certificate', async () => {
    const leaf = await createLeaf({ names: ['mail.example.test'], ca, notBefore: new Date(Date.now() - 100 * DAY), notAfter: new Date(Date.now() - DAY) });
    const status = certificateStatus({ cert: leaf.cert, host: 'mail.example.test', caCerts: ca.cert });
    assert.equal(status.expired, true);
    assert.equal(status.gmailAccepts, false);
    assert.match(status.problems.join(' '), /expired on/);
  });

  it('follows the chain through an intermediate sent with the leaf', async () => {
    const intermediate = await createTestCa('Mailroom Test Intermediate');
    const { default: selfsigned } = await import('selfsigned');
    // Re-sign the intermediate by the root, so root → intermediate → leaf.
    const signed = await selfsigned.generate([{ name: 'commonName', value: 'Mailroom Test Intermediate' }], {
      keyType: 'rsa', keySize: 2048, algorithm: 'sha256', keyPair: await keyPairOf(intermediate.key),
      extensions: [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, digitalSignature: true, critical: true }],
      ca: { cert: ca.cert, key: ca.key },
    });
    const leaf = await createLeaf({ names: ['mail.example.test'], ca: { cert: signed.cert, key: intermediate.key } });
    assert.equal(certificateStatus({ cert: leaf.cert, host: 'mail.example.test', caCerts: ca.cert }).trusted, false, 'without the intermediate');
    const status = certificateStatus({ cert: leaf.cert + signed.cert, host: 'mail.example.test', caCerts: ca.cert });
    assert.equal(status.trusted, true);
    assert.equal(status.gmailAccepts, true);
  });
});

async function keyPairOf(privateKeyPem: string): Promise<{ privateKey: string; publicKey: string }> {
  const { createPrivateKey, createPublicKey } = await import('node:crypto');
  const privateKey = createPrivateKey(privateKeyPem);
  return { privateKey: privateKeyPem, publicKey: createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString() };
}
