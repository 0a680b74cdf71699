// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const testAndBench = ['**/test/**', '**/bench/**'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/ban-ts-comment': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  // The layering of DESIGN.md, enforced: content/ is pure, server/ never reaches into the
  // browser apps, and nothing ships code from test/ or bench/.
  {
    files: ['content/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!typebox(/.*)?$)(?!\\./)',
              message: 'content/ runs in browsers and Node alike: it imports only typebox and its own files, no Node built-ins.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['server/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/player/**', '**/composer/**', ...testAndBench], message: 'server/ never imports the browser apps, tests or benchmarks.' }] },
      ],
    },
  },
  {
    files: ['player/**/*.ts', 'composer/**/*.ts', 'composer/**/*.vue'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/server/**', ...testAndBench], message: 'The browser apps talk to the server over HTTP and sockets only.' }] },
      ],
    },
  },
);
