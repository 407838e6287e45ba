/**
 * When to ask for a certificate, as pure arithmetic on the stored row.
 *
 * Renewal starts 30 days before expiry (a third of the lifetime for shorter
 * certificates), so a CA outage or a broken port forward has weeks to be
 * noticed. Failures back off — Let's Encrypt allows only a few failed
 * validations per hour — but never past a few hours, so a fix is picked up
 * the same day.
 */
import type { StoredCertificate } from './certificate-store.ts';

export const RENEW_BEFORE_MS = 30 * 24 * 60 * 60 * 1000;
const FIRST_BACKOFF_MS = 5 * 60 * 1000;
const MAX_BACKOFF_MS = 6 * 60 * 60 * 1000;

export function renewalDueAt(notBefore: number, notAfter: number): number {
  return notAfter - Math.min(RENEW_BEFORE_MS, Math.floor((notAfter - notBefore) / 3));
}

/** 5 min, 15 min, 45 min, 2 h 15, then every 6 h. */
export function backoffAfter(failures: number): number {
  return Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 3 ** Math.max(0, failures - 1));
}

export type RenewalDecision =
  | { order: true; why: 'none-yet' | 'renewal-due' | 'expired' }
  | { order: false; nextCheckAt: number };

export function decideRenewal(row: StoredCertificate | null, now: number): RenewalDecision {
  const backoffUntil = row?.next_attempt_at ?? null;
  if (backoffUntil !== null && backoffUntil > now) return { order: false, nextCheckAt: backoffUntil };
  if (!row || row.cert_pem === null || row.not_after === null || row.not_before === null) return { order: true, why: 'none-yet' };
  if (row.not_after <= now) return { order: true, why: 'expired' };
  const due = renewalDueAt(row.not_before, row.not_after);
  return due <= now ? { order: true, why: 'renewal-due' } : { order: false, nextCheckAt: due };
}
