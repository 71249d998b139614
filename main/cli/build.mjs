// Builds the CLI, the engine worker and Electron main and preload into out/ (gitignored) with esbuild: plain JavaScript, so a
// checkout runs without transpiling at start-up; then the renderer into out/renderer with Vite
// (renderer/vite.config.ts), which browser mode and Electron serve. Run by `npm run build`, which npm's `prepare` runs
// on every `npm ci`. Native packages stay external; pure-JS ones (zod, tokenizers, jinja…) are
// bundled, which loads faster than resolving their many files one by one.
import { build } from 'esbuild';
import { build as viteBuild } from 'vite';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const outdir = `${root}out`;
rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: {
    cli: 'main/cli/main.ts',
    // engine.ts starts its worker from `./worker-entry.mjs` beside itself: in out/ that is this bundle.
    'worker-entry': 'main/core/engine/worker.ts',
    // Electron main (package.json "main"): in the same build, so its Engine finds worker-entry.mjs beside it.
    'electron-main': 'main/electron/main.ts',
  },
  outdir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true, // commands load lazily (dynamic import): keep them in their own chunks
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  // playwright-core (PDF reports) finds its own files through __dirname at run time: it cannot be bundled.
  external: ['electron', 'onnxruntime-node', 'better-sqlite3', 'node-llama-cpp', 'tsx', 'tsx/*', 'playwright-core'],
  // Bundled CommonJS packages call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __psCreateRequire } from 'node:module'; const require = __psCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  logLevel: 'warning',
});
// The desktop app's preload: a sandboxed preload cannot be an ES module, so CommonJS, on its own.
await build({
  absWorkingDir: root,
  entryPoints: ['preload/bridge.ts'],
  outfile: `${outdir}/preload.cjs`,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'chrome130',
  external: ['electron'],
  logLevel: 'warning',
});
await viteBuild({ configFile: `${root}renderer/vite.config.ts` });
