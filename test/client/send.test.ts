/**
 * @module test/client/send
 * The SDK's `send` against a real server: a signal into an input-only namespace reaches the app's
 * hook with no reply; a refused one surfaces as an `error` event naming its channel; while not
 * connected nothing is sent and the caller is told so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WS from 'ws';
import { AirwavesClient, AirwavesClientError } from '../../src/client/index.js';
import { startServer } from '../helpers/server.js';

test('client.send delivers signals to an input-only namespace and reports refusals as errors', async () => {
  const server = await startServer({ namespaces: [{ name: 'chat', publish: 'anonymous' }] as never });
  const taken: unknown[] = [];
  server.hub.registerNamespace(
    { name: 'signal', subscribe: 'server', publish: 'anonymous', historySize: 0, historyTtlSeconds: 0 },
    { onClientPublish: (_ctx, data) => void taken.push(data) },
  );
  const client = new AirwavesClient({ url: server.wsUrl, WebSocket: WS });
  const errors: AirwavesClientError[] = [];
  client.on('error', (err: AirwavesClientError) => errors.push(err));
  try {
    assert.equal(client.send('signal:1', { n: 0 }), false, 'not connected yet: nothing sent');
    await client.connect();
    for (let n = 1; n <= 3; n++) assert.equal(client.send('signal:1', { n }), true);
    assert.equal(client.send('chat:1', { n: 4 }), true);
    const deadline = Date.now() + 5000;
    while (taken.length < 3 || errors.length < 1) {
      assert.ok(Date.now() < deadline, `3 signals taken (${taken.length}) and 1 refusal (${errors.length})`);
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.deepEqual(taken, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    assert.equal(errors[0].code, 'bad_request');
    assert.match(errors[0].message, /^send on "chat:1": .*input-only/);
  } finally {
    client.close();
    await server.close();
  }
});
