// @ts-check
import js from '@eslint/js';
import pluginVue from 'eslint-plugin-vue';
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
  // The composer's single-file components: Vue's recommended rules, TypeScript inside <script>.
  ...pluginVue.configs['flat/recommended'].map((config) => ({ ...config, files: ['composer/**/*.vue'] })),
  {
    files: ['composer/**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'], sourceType: 'module' } },
    rules: {
      // Layout of attributes and element content is left to the author, as in the .ts files.
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      // vue-tsc checks names, as tsc does for .ts files (typescript-eslint turns no-undef off there too).
      'no-undef': 'off',
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
