/**
 * A management command and the running service must share one store, or an
 * account created here never reaches the service (the classic: the service
 * runs with MAILROOM_DATABASE_URL from its unit file, the CLI from a shell
 * without it, in another directory). Before a command runs, ask the local
 * node's /healthz which store it uses, and say so when it is not ours.
 */
import type { Config } from '../config/options.ts';
import type { Store } from '../store/database.ts';
import { describeStoreLocation, storeId } from '../store/store-id.ts';

// A node on this machine answers at once; anything slower is not worth delaying a command for.
const PROBE_TIMEOUT_MS = 700;

export async function warnIfRunningNodeUsesAnotherStore(store: Store, config: Config): Promise<void> {
  if (config.httpPort === null) return;
  const host = config.httpHost === '0.0.0.0' || config.httpHost === '::' ? '127.0.0.1' : config.httpHost;
  const where = `http://${host.includes(':') ? `[${host}]` : host}:${config.httpPort}`;
  const running = await probe(`${where}/healthz`);
  if (!running) return;
  const ours = await storeId(store);
  if (running.id === ours) return;
  process.stderr.write(
    `mailroom: note: this command uses the store ${describeStoreLocation(config.databaseUrl)}, but the Mailroom running at ${where} ` +
    `(node ${running.node}) uses a different ${running.engine} store. Run the command with the service's MAILROOM_DATABASE_URL ` +
    `(and MAILROOM_DATA_DIR), or it changes a store the service does not read.\n`,
  );
}

async function probe(url: string): Promise<{ id: string; engine: string; node: string } | null> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    if (!response.ok && response.status !== 503) return null;
    const body = await response.json() as { node?: unknown; store?: { id?: unknown; engine?: unknown } };
    if (typeof body.store?.id !== 'string') return null;
    return { id: body.store.id, engine: String(body.store.engine), node: String(body.node) };
  } catch {
    // Nothing listening, or not a Mailroom: nothing to compare with.
    return null;
  }
}
