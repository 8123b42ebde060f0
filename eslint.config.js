// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Imports the project has standardised away from. Socket.IO exists only as a benchmark peer. */
export const bannedImports = {
  paths: [
    { name: 'socket.io', message: 'Airwaves uses its own hub over ws; socket.io is allowed only in bench/.' },
    { name: 'socket.io-client', message: 'Use src/client (the Airwaves SDK); socket.io-client is allowed only in bench/.' },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'bench/results/**', '**/.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly', process: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly',
        setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly', performance: 'readonly',
        queueMicrotask: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', window: 'readonly', document: 'readonly',
        WebSocket: 'readonly', fetch: 'readonly', AbortController: 'readonly', structuredClone: 'readonly',
      },
    },
    rules: {
      'no-restricted-imports': ['error', bannedImports],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'warn',
    },
  },
  { files: ['bench/**'], rules: { 'no-restricted-imports': 'off' } },
  // Market hot path: venue parsers with a field scanner must not fall back to building object trees.
  {
    files: ['src/apps/market/venues/*/parse.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'JSON', property: 'parse', message: 'hot path: use the field scanner (see venues/binance/parse.ts); JSON.parse lives in parse-json.ts as the reference' },
        { object: 'JSON', property: 'stringify', message: 'hot path: no JSON.stringify in venue parsers' },
      ],
    },
  },
);
