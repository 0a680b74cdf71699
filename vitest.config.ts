import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

/** A project of browser test files that run one at a time (Chromium, SwiftShader and a server each). */
function browserLane(name: string, include: string[], exclude: string[]): TestProjectInlineConfiguration {
  return {
    test: {
      name,
      include,
      exclude,
      environment: 'node',
      pool: 'forks',
      // Builds the player and the composer once per run, whichever lane starts first.
      globalSetup: ['test/browser/global-setup.ts'],
      fileParallelism: false,
      testTimeout: 180_000,
      hookTimeout: 120_000,
    },
  };
}

export default defineConfig({
  test: {
    // vitest's default is one worker fewer than the cores: on CI's two, a single file at a time.
    // Three lets the server tests and both browser lanes run side by side.
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
      // Two lanes of browser tests, each one file at a time, side by side: most of a browser
      // test's time is waiting (rotations, reconnections, fsyncs), not computing.
      browserLane('browser-player', ['test/browser/**/*.test.ts'], ['test/browser/composer-*.test.ts']),
      browserLane('browser-composer', ['test/browser/composer-*.test.ts'], []),
    ],
  },
});
