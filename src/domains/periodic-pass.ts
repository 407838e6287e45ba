/**
 * A pass that runs now-ish and then every `tickMs` on every node (each pass claims its own work,
 * so nodes do not repeat each other's): the daily domain re-check and the weekly DMARC summary.
 * Errors are handed to `onError`, never thrown; a pass never overlaps the previous one.
 */
export function startPeriodicPass(run: () => Promise<unknown>, tickMs: number, onError: (error: unknown) => void): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  const pass = () => {
    running ??= run().then(() => undefined, onError).finally(() => { running = null; });
  };
  // Not at start-up on the dot: nodes started together would all look at once.
  const first = setTimeout(pass, Math.floor(Math.random() * Math.min(tickMs, 60_000)));
  const timer = setInterval(pass, tickMs);
  first.unref();
  timer.unref();
  return {
    async stop() {
      clearTimeout(first);
      clearInterval(timer);
      await running;
    },
  };
}
