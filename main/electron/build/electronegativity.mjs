#!/usr/bin/env node
// npm run lint:electron (part of npm run lint): Electronegativity (Doyensec's Electron security
// linter) over the app's Electron-facing code: main/electron, the preload bridge, the built
// renderer page (its CSP <meta>) and package.json (the Electron version). Fails on any MEDIUM or
// HIGH finding, and on any file it could not parse (an unchecked file is not a passed one).
// A finding reviewed and found safe is silenced on its own line with `// eng-disable CHECK_ID`
// plus the reason, so every exception is visible in the code it excuses.
//
// Run through its API, not its CLI: electronegativity 1.10 reads options in commander ≤ 6's style
// and npm hoists a newer commander here, with which its CLI sees no --input at all.
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const require = createRequire(import.meta.url);
const FAIL_AT = 2; // electronegativity's severity values: INFORMATIONAL 0, LOW 1, MEDIUM 2, HIGH 3

const files = [
  ...readdirSync(join(root, 'main/electron'))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => `main/electron/${f}`),
  'preload/bridge.ts',
  'preload/contract-bridge.ts',
  'out/renderer/index.html',
  'package.json',
];
const missing = files.filter((f) => !existsSync(join(root, f)));
if (missing.length) {
  process.stderr.write(`lint:electron: ${missing.join(', ')} missing; build first: npm run build\n`);
  process.exit(1);
}
// A copy of just these files: the scanner walks whole folders, and the rest of the repository is
// no Electron code (scanning node_modules would take minutes and report on other projects).
const stage = mkdtempSync(join(tmpdir(), 'ps-electronegativity-'));
let failed = false;
try {
  for (const f of files) cpSync(join(root, f), join(stage, f), { recursive: true });
  const i18n = require('@doyensec/electronegativity/dist/locales/i18n.js');
  await (i18n.default ?? i18n)(); // registers the messages the scanner prints (global __)
  const run = require('@doyensec/electronegativity');
  const electronVersion = JSON.parse(readFileSync(join(dirname(require.resolve('electron')), 'package.json'), 'utf8')).version;
  const result = await run(
    {
      input: stage,
      isRelative: true,
      electronVersionOverride: electronVersion,
      customScan: [],
      excludeFromScan: [],
      parserPlugins: [],
    },
    false,
  );
  for (const e of result.errors) {
    process.stderr.write(`lint:electron: ${e.file.replace(stage, '')}: ${e.tolerable ? 'warning' : 'could not parse'}: ${e.message}\n`);
    if (!e.tolerable) failed = true;
  }
  const blocking = result.issues.filter((i) => i.severity.value >= FAIL_AT);
  for (const i of result.issues) {
    const where = i.file === 'N/A' ? '(whole app)' : `${i.file}:${i.location.line}:${i.location.column}`;
    const line = `${where} ${i.id} ${i.severity.name}/${i.confidence.name}${i.manualReview ? ' (review)' : ''}: ${i.description}`;
    process.stderr.write(`lint:electron: ${line}\n`);
  }
  if (blocking.length) failed = true;
  process.stdout.write(
    `lint:electron: Electron ${electronVersion}, ${result.globalChecks + result.atomicChecks} checks over ${files.length} files: ` +
      `${blocking.length} medium/high finding(s), ${result.issues.length - blocking.length} lower\n`,
  );
} finally {
  rmSync(stage, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
