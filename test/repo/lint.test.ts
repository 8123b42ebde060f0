/**
 * @module test/repo/lint
 * The lint rules the project relies on really fire: a banned import fails lint in src/ and passes
 * in bench/, where the peers we measure against live.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: process.cwd() });

async function importMessages(filePath: string, source: string) {
  const [result] = await eslint.lintText(source, { filePath });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports');
}

describe('no-restricted-imports', () => {
  for (const pkg of ['socket.io', 'socket.io-client']) {
    test(`importing ${pkg} in src/ fails lint with the reason`, async () => {
      const messages = await importMessages('src/hub/example.ts', `import { Server } from '${pkg}';\nexport const s = Server;\n`);
      assert.equal(messages.length, 1);
      assert.equal(messages[0].severity, 2);
      assert.match(messages[0].message, /allowed only in bench/);
    });
  }

  test('the same import in bench/ is allowed', async () => {
    const messages = await importMessages('bench/hub/example.ts', `import { Server } from 'socket.io';\nexport const s = Server;\n`);
    assert.deepEqual(messages, []);
  });

  test('an ordinary import in src/ is not flagged', async () => {
    const messages = await importMessages('src/hub/example.ts', `import { WebSocketServer } from 'ws';\nexport const s = WebSocketServer;\n`);
    assert.deepEqual(messages, []);
  });
});
