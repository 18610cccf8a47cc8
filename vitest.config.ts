import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Removes the temporary folders each test file made (test/helpers/temp.ts).
    setupFiles: ['test/helpers/remove-temp-dirs.ts'],
    // Tests that open onnxruntime sessions in their own process: no telemetry store, no /tmp/mat-debug-<pid>.log
    // (src/targets/runner-env.ts). The runner sets it for itself, which test/e2e/run-ac.test.ts checks.
    env: { ORT_DISABLE_TELEMETRY: '1' },
    // End-to-end tests run the real runner on real tiles; the machine has 2 cores.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
