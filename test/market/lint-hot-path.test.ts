/**
 * The hot-path lint rule fires: JSON.parse / JSON.stringify in a venue's parse.ts fail lint,
 * the same code elsewhere in the market app does not, and the real parsers pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: process.cwd() });

async function restricted(filePath: string, source: string) {
  const [result] = await eslint.lintText(source, { filePath });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-properties');
}

test('JSON.parse and JSON.stringify in venues/*/parse.ts fail lint', async () => {
  const source = 'export const f = (t: string) => JSON.stringify(JSON.parse(t));\n';
  const messages = await restricted('src/apps/market/venues/binance/parse.ts', source);
  assert.equal(messages.length, 2);
  assert.ok(messages.every((m) => m.severity === 2 && /hot path/.test(m.message)));
  const other = await restricted('src/apps/market/venues/kraken/parse.ts', source);
  assert.equal(other.length, 2, 'applies to every venue parse.ts');
});

test('the same code outside the hot-path files passes, and the real scanner is clean', async () => {
  assert.deepEqual(await restricted('src/apps/market/venues/binance/parse-json.ts', 'export const f = (t: string) => JSON.parse(t);\n'), []);
  const [result] = await eslint.lintFiles(['src/apps/market/venues/binance/parse.ts']);
  assert.equal(result.errorCount, 0);
});
