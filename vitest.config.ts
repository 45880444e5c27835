import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['shared/**/*.test.ts', 'edge/**/*.test.ts', 'gpu-worker/**/*.test.ts', 'cli/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: files that start servers or ONNX sessions must not all run at once.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
