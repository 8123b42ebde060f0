/**
 * @module test/repo/lint
 * The lint rules the project relies on really fire: a banned import fails lint in src/ and passes
 * in bench/, where the peers we measure against live; and the layer table (eslint.config.js
 * LAYERS, docs/architecture.md "Layers") refuses every import a layer may not make — one lower
 * layer reaching up, apps reaching each other, the SDK and the browser reaching the server.
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

describe('layers (no-restricted-imports per folder)', () => {
  const refused: [string, string][] = [
    ['src/core/example.ts', '../protocol/index.js'],
    ['src/core/example.ts', '../hub/hub.js'],
    ['src/protocol/example.ts', '../hub/frame-encoding.js'],
    ['src/hub/example.ts', '../events/publisher.js'],
    ['src/hub/engines/memory/example.ts', '../../../http/errors.js'],
    ['src/events/example.ts', '../hub/hub.js'],
    ['src/db/example.ts', '../protocol/index.js'],
    ['src/auth/example.ts', '../hub/hub.js'],
    ['src/http/example.ts', '../apps/app.js'],
    ['src/apps/radio/example.ts', '../studio/index.js'],
    ['src/apps/support/nested/example.ts', '../../radio/station.js'],
    ['src/client/example.ts', '../hub/hub.js'],
    ['src/client/example.ts', '../core/errors.js'],
    ['web/radio/example.ts', '../../src/hub/hub.js'],
    ['web/radio/example.ts', '../../src/server.js'],
    ['web/radio/example.ts', '../../src/apps/radio/station.js'],
    // Once allow-listed, now refused: the browser takes the desk's shapes from the app's shared/.
    ['web/support/example.ts', '../../src/apps/support/desk.js'],
    ['web/studio/example.ts', '../../src/apps/studio/types.js'],
  ];
  for (const [file, spec] of refused) {
    test(`${file} importing ${spec} fails lint, naming the layer rule`, async () => {
      const messages = await importMessages(file, `import { x } from '${spec}';\nexport const y = x;\n`);
      assert.equal(messages.length, 1);
      assert.equal(messages[0].severity, 2);
      assert.match(messages[0].message, /layers: /);
    });
  }

  const allowed: [string, string][] = [
    ['src/protocol/example.ts', '../core/errors.js'],
    ['src/hub/engines/redis/example.ts', '../../../core/redis-options.js'],
    ['src/hub/example.ts', '../protocol/index.js'],
    ['src/http/example.ts', '../hub/hub.js'],
    ['src/apps/radio/synth/example.ts', '../compose/rng.js'],
    ['src/apps/radio/example.ts', '../app.js'],
    ['src/apps/radio/example.ts', '../../hub/hub-api.js'],
    ['src/client/example.ts', '../protocol/index.js'],
    ['src/server.ts', './apps/index.js'],
    ['web/radio/example.ts', '../../src/apps/radio/shared/format.js'],
    ['web/support/example.ts', '../../src/client/index.js'],
    ['web/support/example.ts', '../../src/apps/support/shared/types.js'],
    ['web/studio/example.ts', '../../src/apps/studio/shared/vocabulary.js'],
    ['test/hub/example.ts', '../../src/hub/hub.js'],
  ];
  for (const [file, spec] of allowed) {
    test(`${file} importing ${spec} is allowed`, async () => {
      assert.deepEqual(await importMessages(file, `import { x } from '${spec}';\nexport const y = x;\n`), []);
    });
  }
});
