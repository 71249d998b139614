// The renderer's build: React + Mantine bundled by Vite into out/renderer, which browser mode
// (`persona-studio serve`) and Electron's app:// protocol both serve. Relative asset URLs, so the
// same build works under any origin.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: './',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../out/renderer', import.meta.url)),
    emptyOutDir: true,
    // plotly.js alone is ~4.5 MB: the warning would fire on every build for a file loaded from disk.
    chunkSizeWarningLimit: 6000,
    reportCompressedSize: false,
  },
  logLevel: 'warn',
});
