// eslint for the browser extension (extension_bridge/extension/): `make eslint`.
// Content scripts are classic scripts sharing globals through globalThis; the service
// worker, offline.js and tenants.js are ES modules; fsa_main.js runs in the page's main world (no
// extension APIs there). generated/contract.js is written by `shadowmap bridge build-extension`.
import js from '@eslint/js';
import globals from 'globals';

// run from the repository's root (make eslint): eslint takes the working directory as the base path
const EXTENSION = 'extension_bridge/extension';

export default [
  {
    files: [`${EXTENSION}/**/*.js`],
    ...js.configs.recommended,
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'script',
      globals: { ...globals.browser, ...globals.webextensions },
    },
    rules: {
      ...js.configs.recommended.rules,
      'no-empty': ['error', { allowEmptyCatch: false }],
      'no-unused-vars': ['error', { caughtErrors: 'all' }],
      'no-var': 'error',
      'prefer-const': 'error',
      eqeqeq: ['error', 'always'],
      strict: ['error', 'global'], // classic scripts: one 'use strict' at the top
    },
  },
  {
    files: [`${EXTENSION}/background.js`, `${EXTENSION}/offline.js`, `${EXTENSION}/tenants.js`,
      `${EXTENSION}/dynamic_guard.js`],
    languageOptions: { sourceType: 'module', globals: { ...globals.serviceworker, ...globals.webextensions } },
  },
  {
    files: [`${EXTENSION}/fsa_main.js`],
    languageOptions: { globals: { ...globals.browser } },
  },
];
