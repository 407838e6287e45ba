/**
 * The one HTML page every dashboard URL answers with. The browser app takes
 * over from there (login, routing, data). The import map lets browser modules
 * import 'preact' and 'htm/preact' by name, as they would with a bundler.
 */
import { createHash } from 'node:crypto';
import { VENDOR_MODULES } from './assets.ts';

const importMap = JSON.stringify({
  imports: Object.fromEntries(
    Object.entries(VENDOR_MODULES)
      .filter(([, module]) => module.specifier !== null)
      .map(([file, module]) => [module.specifier, `/vendor/${file}`]),
  ),
});

/** The import map is the only inline script; CSP allows exactly it by hash. */
const importMapHash = createHash('sha256').update(importMap).digest('base64');

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  `script-src 'self' 'sha256-${importMapHash}'`,
  // Preact and uPlot set element styles from script; no inline <style> blocks are used.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

export const SHELL_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>Mailroom</title>
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/styles.css">
<script type="importmap">${importMap}</script>
<link rel="modulepreload" href="/assets/app.js">
</head>
<body>
<div id="root"><noscript>The Mailroom dashboard needs JavaScript.</noscript></div>
<script type="module" src="/assets/app.js"></script>
</body>
</html>
`;
