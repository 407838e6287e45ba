/**
 * What must be undone if the run is interrupted: child processes to kill,
 * temp directories and PostgreSQL schemas to drop. Each step registers its
 * undo and forgets it once it cleaned up normally.
 */
type Undo = () => void | Promise<void>;

const pending = new Set<Undo>();

export function onCleanup(undo: Undo): () => void {
  pending.add(undo);
  return () => { pending.delete(undo); };
}

export async function cleanupAll(): Promise<void> {
  // Newest first: children go before the databases they use.
  for (const undo of [...pending].reverse()) {
    pending.delete(undo);
    try {
      await undo();
    } catch {
      // Best effort: one failed undo must not keep the others from running.
    }
  }
}
