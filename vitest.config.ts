import { defineConfig } from 'vitest/config';

// Same allocator setting as bin/persona-studio.mjs: large native buffers (model weights) are
// mmapped and go back to the OS when a model is unloaded. Forked test workers inherit it.
process.env.MALLOC_MMAP_THRESHOLD_ ??= '131072';

export default defineConfig({
  test: {
    // onnxruntime sessions use both cores; parallel files would fight over them.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['native-models/**/*.test.ts', 'main/**/*.test.ts', 'preload/**/*.test.ts', 'renderer/**/*.test.ts'],
        },
      },
      // e2e/README.md: the built studio in a real browser (and Electron where installed), after the
      // unit tests (groupOrder), one file at a time like them.
      { extends: true, test: { name: 'e2e', include: ['e2e/**/*.spec.ts'], sequence: { groupOrder: 1 }, testTimeout: 300_000 } },
    ],
  },
});
