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
          // Two files at a time: most of a browser test is waiting (for a frame, a clock, a
          // socket), so two overlap well on two cores, where more would starve Chromium's
          // SwiftShader. Each file has its own server, data dir and browser profile, and
          // resilience.test.ts updates its own copy of the player (ZONECAST_PLAYER_DIR). A later
          // group than the unit and server files: vitest runs it once they are done.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
