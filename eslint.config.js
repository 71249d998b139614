// ESLint: typescript-eslint's recommended rules (syntax only, no type information, so a whole-repo
// lint stays fast), the Rules of Hooks for the renderer, and the import layers of
// ../shared/ARCHITECTURE.md ("imports point downward") as one `no-restricted-imports` set per folder.
// Formatting is Prettier's job (`prettier --check .` in `npm run lint`), so no style rules here.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import reactHooks from 'eslint-plugin-react-hooks';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const CODE = ['**/*.{ts,tsx,mts,cts,js,mjs,cjs}'];

// ---- Import layers ---------------------------------------------------------------------------------
// Specifiers are matched as written, so relative paths are matched by the folder they reach after
// one or more `../`: from main/core/engine/x.ts, `../../electron/app.ts` is main/electron.
const up = '^(\\.\\./)+';
const electron = {
  paths: [{ name: 'electron', message: 'Only main/electron (and the preload bridge) may import electron.' }],
  patterns: [{ group: ['electron/*'], message: 'Only main/electron (and the preload bridge) may import electron.' }],
};
const noMain = { regex: `${up}main(/|$)`, message: 'This layer must not import main/ (imports point downward).' };
// main/core/rpc is pure (zod and standard JavaScript, no Node imports): the contract is declared with
// its defineContract and the renderer's client is its createClient, so both sides share one envelope.
const noMainBeyondRpc = {
  regex: `${up}main(/(?!core/rpc/)|$)`,
  message: 'This layer may import only main/core/rpc/ of main/ (imports point downward).',
};
const noNativeModels = { regex: `${up}native-models(/|$)`, message: 'This layer must not import native-models/.' };
const noPreload = { regex: `${up}preload(/|$)`, message: 'This layer must not import preload/.' };
const noRenderer = { regex: `${up}renderer(/|$)`, message: 'Nothing imports the renderer; it talks through the preload contract.' };
const preloadBeyondContract = {
  regex: `${up}preload/(?!contract)`,
  message: "Only preload's contract (preload/contract*) may be imported from outside preload/.",
};
const coreFaces = {
  regex: `${up}(main/)?(electron|server|cli)(/|$)`,
  message: 'main/core is pure Node: it imports nothing of main/electron, main/server or main/cli.',
};
const nodeBuiltins = {
  paths: builtinModules.map((name) => ({ name, message: 'The renderer has no Node APIs; talk through the preload contract.' })),
  patterns: [{ group: ['node:*'], message: 'The renderer has no Node APIs; talk through the preload contract.' }],
};

/** One complete `no-restricted-imports` setting for a folder (settings do not merge across blocks). */
function layer(name, files, { paths = [], patterns = [] }, ignores = []) {
  return { name: `layers/${name}`, files, ignores, rules: { 'no-restricted-imports': ['error', { paths, patterns }] } };
}

const layers = [
  // Everything (bench/, bin/, tests, configs): no electron.
  layer('default', CODE, { ...electron }),
  layer('native-models', ['native-models/**'], {
    paths: electron.paths,
    patterns: [...electron.patterns, noMain, noPreload, noRenderer],
  }),
  // main/ may use preload's contract (its zod schemas validate what the renderer sends), nothing else.
  layer('main', ['main/**'], { paths: electron.paths, patterns: [...electron.patterns, preloadBeyondContract, noRenderer] }),
  layer('main/core', ['main/core/**'], {
    paths: electron.paths,
    patterns: [...electron.patterns, preloadBeyondContract, noRenderer, coreFaces],
  }),
  layer('main/electron', ['main/electron/**'], { patterns: [preloadBeyondContract, noRenderer] }),
  // The bridge needs electron (contextBridge, ipcRenderer); the contract itself stays pure, since
  // main and the renderer (in the browser too) both import it.
  layer('preload', ['preload/**'], { patterns: [noMain, noNativeModels, noRenderer] }, ['preload/contract*']),
  layer('preload/contract', ['preload/contract*'], {
    paths: electron.paths,
    patterns: [...electron.patterns, noMainBeyondRpc, noNativeModels, noRenderer],
  }),
  layer(
    'renderer',
    ['renderer/**'],
    {
      paths: [...electron.paths, ...nodeBuiltins.paths],
      patterns: [
        ...electron.patterns,
        ...nodeBuiltins.patterns,
        noMainBeyondRpc,
        noNativeModels,
        // The contract at run time too: browser mode's client (renderer/api/) checks what the server sends.
        { ...preloadBeyondContract, message: 'The renderer may import only the preload contract.' },
      ],
      // Vite's config runs in Node at build time; it is not part of the renderer.
    },
    ['renderer/vite.config.ts'],
  ),
];

export default defineConfig(
  { name: 'ignores', ignores: ['out/', 'dist/', '.bench/', '.fixtures/', '.cache/', '.scratch/', 'assets/', '**/node_modules/'] },
  { name: 'files', files: CODE },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    name: 'project',
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `_name` marks a parameter or binding kept for its position or to drop a field on purpose.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // Plain JavaScript entry points run under Node: declare the globals they use (TypeScript checks
    // the .ts files' globals, so no-undef is off there by typescript-eslint's own setting).
    name: 'node-js',
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly', setTimeout: 'readonly' },
    },
  },
  { name: 'react-hooks', files: ['renderer/**/*.{ts,tsx,js,jsx}'], ...reactHooks.configs.flat.recommended },
  ...layers,
);
