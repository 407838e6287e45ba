#!/usr/bin/env node
// Node 24 runs the TypeScript sources directly; npx and npm scripts put the
// pinned Node 24 (the `node` package) first on PATH. The package declares no
// `engines` field (npm, running on the system's older Node, would warn on
// every npx call), so the check that matters is made here, on the Node that
// actually runs Mailroom.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(`mailroom: needs Node 24 or newer, and this is Node ${process.versions.node}.\n` +
    `Run it through npm, which uses the project's own Node 24: npx mailroom … (or npm run mailroom -- …),\n` +
    `or put it first on PATH: export PATH="$PWD/node_modules/.bin:$PATH" (run npm install first).\n`);
  process.exit(2);
}
const { program } = await import('../src/cli/main.ts');
await program.parseAsync(process.argv);
