/**
 * The dashboard, on the API's HTTP server: one HTML shell for every page URL
 * (`/`, `/login`, `/app/...`), our browser modules under `/assets/`, and the
 * libraries they import under `/vendor/`. It holds no data of its own: the
 * browser talks to /api/v1 with the session cookie the API sets on login.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { createAssetCache, publicPath, vendorPath, VENDOR_MODULES, type Asset, type VendorName } from './assets.ts';
import { CONTENT_SECURITY_POLICY, SHELL_HTML } from './shell.ts';

// Nothing is needed yet: the dashboard reads everything through the API. The
// parameter exists so the server's composition root passes deps the same way to every plugin.
export type DashboardDeps = Record<string, never>;

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

export const registerDashboard: FastifyPluginAsync<DashboardDeps> = async (app) => {
  const readAsset = createAssetCache();

  const sendShell = async (_request: FastifyRequest, reply: FastifyReply) => reply.headers(PAGE_HEADERS).send(SHELL_HTML);
  app.get('/', sendShell);
  app.get('/login', sendShell);
  app.get('/app', sendShell);
  app.get('/app/*', sendShell);

  app.get<{ Params: { '*': string } }>('/assets/*', async (request, reply) => {
    const path = publicPath(request.params['*']);
    return sendAsset(request, reply, path ? await readAsset(path) : null);
  });

  app.get<{ Params: { name: string } }>('/vendor/:name', async (request, reply) => {
    const name = request.params.name;
    if (!Object.hasOwn(VENDOR_MODULES, name)) return sendAsset(request, reply, null);
    return sendAsset(request, reply, await readAsset(vendorPath(name as VendorName)));
  });
};

function sendAsset(request: FastifyRequest, reply: FastifyReply, asset: Asset | null) {
  if (!asset) {
    return reply.code(404).header('content-type', 'text/plain; charset=utf-8').send('Not found');
  }
  // Revalidated every time: cheap on a LAN, and a restart with new files is never served stale.
  reply.headers({ 'cache-control': 'no-cache', etag: asset.etag, 'x-content-type-options': 'nosniff' });
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  return reply.header('content-type', asset.contentType).send(asset.body);
}
