/**
 * @module scripts/sync-config-doc
 * Rewrites the configuration reference in README.md (between the config markers) from the
 * configuration table in src/config.ts (core settings and every app's), so the README never
 * drifts from what the server accepts.
 * `npm run docs:config`; test/repo/docs.test.ts fails when it is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { configReference } from '../src/config.js';

const BEGIN = '<!-- config-reference:begin (npm run docs:config) -->';
const END = '<!-- config-reference:end -->';
const readme = readFileSync('README.md', 'utf8');
const start = readme.indexOf(BEGIN);
const end = readme.indexOf(END);
if (start < 0 || end < start) throw new Error(`README.md needs the markers ${BEGIN} … ${END}`);
writeFileSync('README.md', `${readme.slice(0, start + BEGIN.length)}\n${configReference().trim()}\n${readme.slice(end)}`);
console.log('README.md configuration reference updated');
