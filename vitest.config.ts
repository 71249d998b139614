import { defineConfig } from 'vitest/config';

// Same allocator setting as bin/persona-studio.mjs: large native buffers (model weights) are
// mmapped and go back to the OS when a model is unloaded. Forked test workers inherit it.
process.env.MALLOC_MMAP_THRESHOLD_ ??= '131072';

export default defineConfig({
  test: {
    include: ['native-models/**/*.test.ts', 'main/**/*.test.ts', 'preload/**/*.test.ts', 'renderer/**/*.test.ts'],
    // onnxruntime sessions use both cores; parallel files would fight over them.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
  },
});
