// ESLint (flat config): typescript-eslint's recommended rules for src/ (TypeScript, type-aware), ESLint's
// recommended rules for the JavaScript around it: tests, scripts and benchmarks (CommonJS on Node) and the
// editor scripts in resources/ (browser, ES5, with Node-RED's editor globals). Formatting is Prettier's
// (eslint-config-prettier turns off the rules it owns). `npm run lint` runs both; `npm run format` writes.
'use strict';
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const globals = require('globals');
const prettier = require('eslint-config-prettier');

module.exports = tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.dev/', 'test-output/', 'docs/'] },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  {
    files: ['src/**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: __dirname },
    },
    rules: {
      // `const node = this` in a node's constructor is Node-RED's idiom (the handlers close over the node)
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['node'] }],
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', ecmaVersion: 2023, globals: { ...globals.node } },
  },
  {
    // editor scripts: ES5 in the browser, with the globals of Node-RED's editor (RED, jQuery, jsonata) and Promise
    files: ['resources/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      ecmaVersion: 5,
      globals: { ...globals.browser, Promise: 'readonly', RED: 'readonly', $: 'readonly', jQuery: 'readonly', jsonata: 'readonly' },
    },
    // ES5 has no `catch {}` without a binding
    rules: { 'no-unused-vars': ['error', { caughtErrors: 'none' }] },
  },
  {
    // browser tests: the functions given to Playwright's page.evaluate/waitForFunction run in the editor's page
    files: ['test/e2e/**/*.js', 'test/helpers/browser.js'],
    languageOptions: {
      globals: { window: 'readonly', document: 'readonly', getComputedStyle: 'readonly', RED: 'readonly', $: 'readonly' },
    },
  },
  prettier,
);
