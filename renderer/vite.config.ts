// The renderer's build: React + Mantine bundled by Vite into out/renderer, which browser mode
// (`persona-studio serve`) and Electron's app:// protocol both serve. Relative asset URLs, so the
// same build works under any origin.
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { contentSecurityPolicy } from '../main/electron/security.ts';

const here = fileURLToPath(new URL('.', import.meta.url));

/** The UI's Content-Security-Policy (one definition, main/electron/security.ts) as a <meta> in the built page. */
const csp = (): Plugin => ({
  name: 'persona-studio-csp',
  apply: 'build',
  transformIndexHtml: () => [
    { tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: contentSecurityPolicy('meta') }, injectTo: 'head-prepend' },
  ],
});

export default defineConfig({
  root: here,
  base: './',
  plugins: [react(), csp()],
  build: {
    outDir: fileURLToPath(new URL('../out/renderer', import.meta.url)),
    emptyOutDir: true,
    // plotly.js alone is ~4.5 MB: the warning would fire on every build for a file loaded from disk.
    chunkSizeWarningLimit: 6000,
    reportCompressedSize: false,
  },
  logLevel: 'warn',
});
