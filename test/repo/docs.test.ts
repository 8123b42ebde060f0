/**
 * @module test/repo/docs
 * Documentation that must not drift from the code: every error code is in docs/protocol.md, and
 * the README's configuration reference is the one generated from the config schema.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Errors, WS_CLOSE } from '../../src/core/errors.js';
import { CONFIG_FIELDS, configReference } from '../../src/config.js';
import { CLIENT_OPS } from '../../src/protocol/index.js';

const protocolDoc = readFileSync('docs/protocol.md', 'utf8');
const readme = readFileSync('README.md', 'utf8');

describe('docs/protocol.md', () => {
  test('documents every error code in the catalogue', () => {
    const missing = Object.values(Errors).filter((e) => !protocolDoc.includes(`\`${e.code}\``)).map((e) => e.code);
    assert.deepEqual(missing, []);
  });

  test('documents every close code and every command', () => {
    for (const code of Object.values(WS_CLOSE)) assert.match(protocolDoc, new RegExp(`\\| ${code} \\|`), `close code ${code}`);
    for (const op of CLIENT_OPS) assert.ok(protocolDoc.includes(`| \`${op}\` |`), `op ${op}`);
  });
});

describe('README', () => {
  test('holds the generated configuration reference, up to date', () => {
    assert.ok(readme.includes(configReference().trim()), 'run `npm run airwaves -- config-doc` and paste it into README.md');
    for (const [variable] of Object.values(CONFIG_FIELDS)) assert.ok(readme.includes(variable), variable);
  });

  test('gives the two commands a new user needs', () => {
    assert.match(readme, /npm install && npm start/);
    assert.match(readme, /npm test/);
  });
});
