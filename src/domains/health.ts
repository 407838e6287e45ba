/**
 * A verified domain's health alert: which of its records DNS now answers wrongly (missing,
 * changed), since when. Raised by the scheduled re-check (recheck.ts), settled by it or by a
 * verification by hand.
 */
import { failedOnAnswer, isRequired, type RecordCheck } from './verify.ts';

export interface HealthAlert {
  /** When the problem was first seen (epoch ms). */
  since: number;
  records: Array<{ purpose: string; type: string; name: string; error: string }>;
}

/**
 * What is wrong, given the new checks and the last ones: every required record that DNS answered
 * wrongly, and the optional ones (DMARC) that were right before. A record DNS did not answer for
 * keeps whatever the alert said about it: a timeout proves nothing either way.
 */
export function healthAlertOf(previous: HealthAlert | null, before: RecordCheck[] | null, checks: RecordCheck[], now: number): HealthAlert | null {
  const wasOk = (c: RecordCheck) => before?.some((b) => b.purpose === c.purpose && b.name === c.name && b.ok) ?? false;
  const wrong = failedOnAnswer(checks).filter((c) => isRequired(c.purpose) || wasOk(c) || previous?.records.some((r) => r.name === c.name));
  const unanswered = checks.filter((c) => !c.ok && !failedOnAnswer(checks).includes(c));
  const kept = (previous?.records ?? []).filter((r) => unanswered.some((c) => c.name === r.name && c.purpose === r.purpose));
  const records = [...wrong.map((c) => ({ purpose: c.purpose, type: c.type, name: c.name, error: c.error ?? 'the record does not match' })), ...kept];
  if (records.length === 0) return null;
  return { since: previous?.since ?? now, records };
}
