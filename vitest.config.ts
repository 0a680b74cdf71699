import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // vitest's default is one worker fewer than the cores: on CI's two, a single file at a time.
    // The unit and server files mostly wait on sockets, fsyncs and scrypt: three at a time.
    maxWorkers: 3,
    projects: [
      { test: { name: 'unit', include: ['test/content/**/*.test.ts', 'test/player/**/*.test.ts', 'test/composer/**/*.test.ts'], environment: 'node' } },
      {
        test: {
          name: 'server',
          include: ['test/server/**/*.test.ts'],
          environment: 'node',
          pool: 'forks',
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          environment: 'node',
          pool: 'forks',
          globalSetup: ['test/browser/global-setup.ts'],
          // Chromium, SwiftShader and the server share two cores, and resilience.test.ts rebuilds
          // dist/player under the others: one browser test file at a time. vitest runs these
          // files after the unit and server files, which share the workers below.
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
