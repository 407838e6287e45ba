/**
 * The dashboard's files: our own browser modules under public/, and the few
 * library modules the browser imports by bare name (preact, htm, uplot), served
 * straight from node_modules so `npm start` needs no build step.
 *
 * Only files listed or found under public/ are served; a request can never
 * climb out of those folders.
 */
import { readFile, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PUBLIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'public');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** Bare module name in the import map → the package and the file inside it. */
export const VENDOR_MODULES = {
  'preact.mjs': { specifier: 'preact', pkg: 'preact', file: 'dist/preact.mjs' },
  'preact-hooks.mjs': { specifier: 'preact/hooks', pkg: 'preact', file: 'hooks/dist/hooks.mjs' },
  'htm.mjs': { specifier: 'htm', pkg: 'htm', file: 'dist/htm.mjs' },
  'htm-preact.mjs': { specifier: 'htm/preact', pkg: 'htm', file: 'preact/index.mjs' },
  'uplot.mjs': { specifier: 'uplot', pkg: 'uplot', file: 'dist/uPlot.esm.js' },
  'uplot.css': { specifier: null, pkg: 'uplot', file: 'dist/uPlot.min.css' },
} as const;

export type VendorName = keyof typeof VENDOR_MODULES;

export interface Asset {
  body: Buffer;
  contentType: string;
  etag: string;
}

const require = createRequire(import.meta.url);

function packageDir(pkg: string): string {
  // package.json is not always in "exports", so find it through the main entry's folder chain.
  const entry = require.resolve(pkg);
  let dir = dirname(entry);
  while (!dir.endsWith(`${sep}node_modules${sep}${pkg}`) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export function vendorPath(name: VendorName): string {
  const { pkg, file } = VENDOR_MODULES[name];
  return join(packageDir(pkg), file);
}

/** A path under public/, or null when the request points anywhere else. */
export function publicPath(relative: string): string | null {
  const resolved = normalize(join(PUBLIC_DIR, relative));
  return resolved.startsWith(PUBLIC_DIR + sep) ? resolved : null;
}

/**
 * Reads a file once and keeps it; files are re-read when their mtime changes,
 * so editing the dashboard in development needs no restart.
 */
export function createAssetCache(): (path: string) => Promise<Asset | null> {
  const cache = new Map<string, { mtimeMs: number; asset: Asset }>();
  return async (path) => {
    let info;
    try {
      info = await stat(path);
    } catch {
      return null;
    }
    if (!info.isFile()) return null;
    const cached = cache.get(path);
    if (cached && cached.mtimeMs === info.mtimeMs) return cached.asset;
    const body = await readFile(path);
    const asset = {
      body,
      contentType: CONTENT_TYPES[extname(path)] ?? 'application/octet-stream',
      etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 16)}"`,
    };
    cache.set(path, { mtimeMs: info.mtimeMs, asset });
    return asset;
  };
}
