/**
 * When a row of the `nodes` table still counts as a live node: its last
 * heartbeat is younger than STALE_AFTER_BEATS of its own intervals. The
 * registry (nodes/registry.ts) writes the beats; the delivery shaper counts
 * live delivery nodes and a restore refuses a store a live node uses.
 */
export const STALE_AFTER_BEATS = 3;

export function heartbeatAlive(row: { heartbeat_at: number | string; heartbeat_ms: number | string }, now: number): boolean {
  return now - Number(row.heartbeat_at) < STALE_AFTER_BEATS * Number(row.heartbeat_ms);
}
