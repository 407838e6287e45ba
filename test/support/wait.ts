/**
 * The one way the suites wait for something to become true: poll `check`
 * until it returns a truthy value (which is returned), or fail after
 * `timeoutMs` naming what was awaited. The service does its work on its own
 * schedule (the delivery worker, webhooks, retention); a test polls what it
 * can observe rather than sleeping a guessed time.
 */
type Falsy = undefined | null | false;

export async function waitFor<T>(what: string, check: () => Promise<T | Falsy> | T | Falsy, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
