import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backoffAfter, decideRenewal, renewalDueAt } from '../../src/tls/renewal-schedule.ts';
import type { StoredCertificate } from '../../src/tls/certificate-store.ts';

const DAY = 24 * 60 * 60 * 1000;
const MIN = 60 * 1000;
const NOW = Date.parse('2026-06-01T00:00:00Z');

function row(fields: Partial<StoredCertificate>): StoredCertificate {
  return {
    hostname: 'mail.example.test', cert_pem: 'PEM', key_pem: 'KEY', ecdsa_cert_pem: null, ecdsa_key_pem: null, issuer: 'CA', not_before: NOW - 10 * DAY, not_after: NOW + 80 * DAY,
    obtained_at: NOW - 10 * DAY, failures: 0, last_attempt_at: null, last_error: null, next_attempt_at: null, lease_owner: null, lease_expires_at: null,
    updated_at: NOW, ...fields,
  };
}

describe('renewal schedule', () => {
  it('renews a 90-day certificate 30 days before it expires, a short one at two thirds of its life', () => {
    assert.equal(renewalDueAt(NOW, NOW + 90 * DAY), NOW + 60 * DAY);
    assert.equal(renewalDueAt(NOW, NOW + 6 * DAY), NOW + 4 * DAY);
  });

  it('orders when there is no certificate yet, when renewal is due, and when the stored one expired', () => {
    assert.deepEqual(decideRenewal(null, NOW), { order: true, why: 'none-yet' });
    assert.deepEqual(decideRenewal(row({ cert_pem: null, not_before: null, not_after: null }), NOW), { order: true, why: 'none-yet' });
    assert.deepEqual(decideRenewal(row({ not_before: NOW - 61 * DAY, not_after: NOW + 29 * DAY }), NOW), { order: true, why: 'renewal-due' });
    assert.deepEqual(decideRenewal(row({ not_after: NOW - MIN }), NOW), { order: true, why: 'expired' });
  });

  it('waits until renewal is due, and during a backoff even when it is', () => {
    assert.deepEqual(decideRenewal(row({}), NOW), { order: false, nextCheckAt: NOW + 50 * DAY });
    assert.deepEqual(decideRenewal(row({ not_before: NOW - 61 * DAY, not_after: NOW + 29 * DAY, next_attempt_at: NOW + 5 * MIN }), NOW), { order: false, nextCheckAt: NOW + 5 * MIN });
    assert.deepEqual(decideRenewal(row({ not_before: NOW - 61 * DAY, not_after: NOW + 29 * DAY, next_attempt_at: NOW - 1 }), NOW), { order: true, why: 'renewal-due' });
  });

  it('backs off 5 min, 15 min, 45 min, 2 h 15, then every 6 h', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 9].map(backoffAfter), [5 * MIN, 15 * MIN, 45 * MIN, 135 * MIN, 360 * MIN, 360 * MIN]);
  });
});
