#!/usr/bin/env node
// Node 24 runs the TypeScript sources directly; npx and npm scripts put the
// pinned Node 24 (the `node` package) first on PATH.
await import('../src/cli/main.ts');
