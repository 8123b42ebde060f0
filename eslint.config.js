// @ts-check
import { readdirSync } from 'node:fs';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Imports the project has standardised away from. Socket.IO exists only as a benchmark peer. */
export const bannedImports = {
  paths: [
    { name: 'socket.io', message: 'Airwaves uses its own hub over ws; socket.io is allowed only in bench/.' },
    { name: 'socket.io-client', message: 'Use src/client (the Airwaves SDK); socket.io-client is allowed only in bench/.' },
  ],
};

/**
 * The layer table (docs/architecture.md, "Layers"): what each folder of src/ may import of ours.
 * Everything not listed is refused by `no-restricted-imports`; a folder always imports itself.
 * `server.ts`, `cli.ts` and `config.ts` (the composition root) may import everything.
 */
export const LAYERS = {
  core: [],
  protocol: ['core'],
  hub: ['core', 'protocol', 'auth'],
  events: ['core', 'protocol'],
  db: ['core'],
  auth: ['core', 'protocol', 'db'],
  http: ['core', 'protocol', 'hub', 'events', 'db', 'auth'],
  apps: ['core', 'protocol', 'hub', 'events', 'db', 'auth', 'http', 'client'],
  client: ['protocol'],
};
const LAYER_NAMES = Object.keys(LAYERS);
const APPS = readdirSync(new URL('./src/apps/', import.meta.url), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);

/**
 * A relative import from inside src/ reaches another top-level folder only by climbing to src/
 * (`../`, `../../`, ...) and naming it, so `^(\.\./)+<folder>/` is exactly "imports that folder";
 * no folder inside a layer shares a layer's name.
 */
const climbingInto = (names) => `^(\\.\\./)+(${names.join('|')})/`;

/** `no-restricted-imports` options: the banned packages plus `patterns`. */
const restrict = (...patterns) => ['error', { ...bannedImports, patterns }];

/** One config block per layer: refuse every layer the table does not allow. */
const layerBlocks = Object.entries(LAYERS).map(([layer, allowed]) => {
  const refused = LAYER_NAMES.filter((n) => n !== layer && !allowed.includes(n));
  return {
    files: [`src/${layer}/**/*.{ts,tsx}`],
    rules: {
      'no-restricted-imports': restrict(
        ...(refused.length === 0
          ? []
          : [{ regex: climbingInto(refused), message: `layers: src/${layer} may import only ${allowed.length ? allowed.map((a) => `src/${a}`).join(', ') : 'nothing of ours'} (docs/architecture.md, "Layers")` }]),
      ),
    },
  };
});

/** Apps never import each other: one block per app, refusing every other app's folder. */
const appBlocks = APPS.map((app) => {
  const others = APPS.filter((a) => a !== app);
  return {
    files: [`src/apps/${app}/**/*.{ts,tsx}`],
    rules: {
      'no-restricted-imports': restrict(
        ...(others.length ? [{ regex: climbingInto(others), message: `layers: apps never import each other (src/apps/${app} imports another app); share through a lower layer` }] : []),
      ),
    },
  };
});

/**
 * The browser (web/) never imports server modules: only src/client, src/protocol and an app's
 * browser-shared code (src/apps/<app>/shared/).
 */
const webBlock = {
  files: ['web/**/*.{ts,tsx}'],
  rules: {
    'no-restricted-imports': restrict(
      { regex: '(^|/)src/(core|hub|events|db|auth|http)/|(^|/)src/(server|cli)\\.js$', message: 'layers: the browser never imports server modules; use src/client (the SDK) and src/protocol' },
      {
        regex: '(^|/)src/apps/(?![^/]+/shared/)',
        message: "layers: the browser imports only an app's browser-shared code, src/apps/<app>/shared/",
      },
    ),
  },
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
  ...layerBlocks,
  ...appBlocks,
  webBlock,
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
