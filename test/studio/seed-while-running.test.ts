/**
 * @module test/studio/seed-while-running
 * `npm run studio:seed` whether or not the server runs: while a real server process holds the
 * embedded data directory the seed goes through it (rows visible at once in that server), with
 * no server the script takes the lock itself, and every row is still there after a restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { runScript, startServeProcess, tempDataDir, TEST_API_KEY } from '../db/helpers.js';

async function conversationCount(base: string): Promise<number> {
  const res = await fetch(`${base}/api/v1/studio/conversations/count`, { headers: { authorization: `Bearer ${TEST_API_KEY}` } });
  assert.equal(res.status, 200, await res.clone().text());
  const body = (await res.json()) as { count?: number; total?: number };
  return Number(body.count ?? body.total);
}

test('seeding while the server runs goes through it, seeding without it takes the lock, and nothing is lost across restarts', async () => {
  const dataDir = tempDataDir();
  let server = await startServeProcess(dataDir);
  try {
    assert.equal(await conversationCount(server.url), 0);
    const seeded = await runScript('scripts/studio-seed.ts', ['--count', '500', '--no-turns', '--batch-size', '100'], dataDir);
    assert.equal(seeded.code, 0, seeded.stdout + seeded.stderr);
    assert.match(seeded.stderr, new RegExp(`held by process ${server.child.pid}`));
    assert.match(seeded.stdout, /seeded 500 conversations through the running server/);
    assert.match(seeded.stderr, /500\/500/, 'the progress bar reached the end');
    assert.equal(await conversationCount(server.url), 500, 'visible in the running server at once');
    assert.equal(await server.stop(), 0);

    // No server: the script owns the directory for its run.
    const direct = await runScript('scripts/studio-seed.ts', ['--count', '200', '--no-turns', '--seed', '7'], dataDir);
    assert.equal(direct.code, 0, direct.stdout + direct.stderr);
    assert.match(direct.stdout, /seeded 200 conversations on pglite/);

    server = await startServeProcess(dataDir);
    assert.equal(await conversationCount(server.url), 700, 'every row survives the restart');
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
