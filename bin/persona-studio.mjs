#!/usr/bin/env node
// The persona-studio command: runs the built CLI (out/cli.mjs, made by `npm run build`, which
// `npm ci` runs through the `prepare` script) in this process — no transpiling, no second node.
//
// No re-spawn to set MALLOC_MMAP_THRESHOLD_: it only helps a process that unloads a model and lives
// on (the app, browser mode; the test runner sets it in vitest.config.ts). A CLI run loads one model
// and exits, so the OS gets everything back at exit anyway, and the re-spawn cost a whole second node
// start-up (measured: see main/cli/README.md).
import { existsSync } from 'node:fs';

const built = new URL('../out/cli.mjs', import.meta.url);
if (!existsSync(built)) {
  process.stderr.write('persona-studio: out/cli.mjs is missing; build the CLI first: npm run build\n');
  process.exit(1);
}
// A reader that closes the pipe early (`| head`) is not an error: stop writing, exit quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}
const { main } = await import(built.href);
process.exitCode = await main(process.argv.slice(2));
