/** The HTTP listener: API, dashboard and operations endpoints on one port. */
import type { Listener } from '../nodes/listener.ts';
import type { HttpDeps } from './deps.ts';
import { buildHttpApp } from './app.ts';

export type { HttpDeps } from './deps.ts';

export async function startHttpServer(deps: HttpDeps): Promise<Listener> {
  const { config } = deps;
  const app = await buildHttpApp(deps);
  await app.listen({ host: config.httpHost, port: config.httpPort ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.httpPort ?? 0;
  return { name: 'http (API and dashboard)', host: config.httpHost, port, close: () => app.close() };
}
