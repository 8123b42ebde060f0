/**
 * The load generators' shared skeleton (bench/shared/load-process.ts), through a real generator
 * forked as the benchmarks fork it (the hub receiver, which answers without a server): requests
 * reach their own handler, an unknown type is refused by name, `close` answers and the process
 * exits; and a publisher's achieved rate counts at least the requested duration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Child } from '../../bench/hub/ipc.js';
import { publisherResult } from '../../bench/shared/load-process.js';

const RECEIVER = fileURLToPath(new URL('../../bench/hub/receiver.ts', import.meta.url));

test('a forked load generator dispatches by type, refuses an unknown one, and exits on close', async () => {
  const child = new Child(RECEIVER, 'receiver');
  try {
    assert.deepEqual(await child.call({ type: 'progress' }, 60_000), { received: 0, frames: 0, connected: 0 });
    assert.deepEqual(await child.call({ type: 'step', step: 3 }), { ok: true });
    await assert.rejects(child.call({ type: 'bogus' }), /receiver: unknown request type "bogus"/);
    // Not an own handler: a name on Object.prototype is refused the same way.
    await assert.rejects(child.call({ type: 'toString' }), /unknown request type "toString"/);
    const exited = new Promise<number | null>((r) => child.process.once('exit', (code) => r(code)));
    assert.deepEqual(await child.call({ type: 'close' }), { ok: true });
    assert.equal(await exited, 0);
  } finally {
    await child.stop();
  }
});

test("a publisher's achieved rate is over at least the requested duration", () => {
  assert.deepEqual(publisherResult({ c0: 10 }, 10, 500, 1000), { published: { c0: 10 }, total: 10, elapsedMs: 500, achievedRate: 10 });
  assert.equal(publisherResult({ c0: 30 }, 30, 2000, 1000).achievedRate, 15);
});
