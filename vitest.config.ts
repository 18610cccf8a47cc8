import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Removes the temporary folders each test file made (test/helpers/temp.ts).
    setupFiles: ['test/helpers/remove-temp-dirs.ts'],
    // End-to-end tests run the real runner on real tiles; the machine has 2 cores.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
