/**
 * @module test/hub/publish-doors
 * One publish pipeline behind every door: the same bad publication gets the same error code
 * whether it comes from server code (`hub.publish`, `hub.publishBinary`) or from a client (the
 * `publish` and `send` commands, a binary frame), and the stages run in the same order
 * (namespace → authorize → limits → hook → size) from every client door.
 *
 * Server code is trusted: it skips authorize, the client limits and the client hooks, so for
 * those three kinds of refusal the server doors are checked to *succeed* instead.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, RawClient, type Frame } from '../helpers/server.js';
import { encodeBinaryFrame } from '../../src/hub/frame-encoding.js';
import { AirwavesError, Errors, isAirwavesError } from '../../src/core/errors.js';

type Server = Awaited<ReturnType<typeof startServer>>;
type Door = 'hub.publish' | 'hub.publishBinary' | 'publish' | 'send' | 'binary frame';

const CLIENT_DOORS: Door[] = ['publish', 'send', 'binary frame'];
const ALL_DOORS: Door[] = ['hub.publish', 'hub.publishBinary', ...CLIENT_DOORS];
const SMALL = 64;
/** Publish rate of the test server: a burst of 2 × 2 publishes, then rate_limited. */
const PUBLISH_RATE = 2;

/** Each door reaches a namespace family through the namespace that fits it: text, input-only or binary. */
function channelFor(door: Door, family: string): string {
  if (family === 'nope') return 'nope:1';
  if (door === 'send') return `${family}-in:1`;
  if (door === 'hub.publishBinary' || door === 'binary frame') return `${family}-media:1`;
  return `${family}:1`;
}

describe('one publish pipeline behind every door', () => {
  let server: Server;
  const hookCalls: string[] = [];
  const refuse = (where: string) => {
    hookCalls.push(where);
    throw new AirwavesError(Errors.conflict, `refused by the ${where} hook`);
  };

  before(async () => {
    server = await startServer({ publishRatePerSecond: PUBLISH_RATE, namespaces: [] as never });
    const hub = server.hub;
    // Per family: a text namespace, an input-only one (for send) and a binary one.
    const family = (name: string, rules: { publish?: 'anonymous' | 'server'; maxMessageBytes?: number }, hooked = false) => {
      const base = { publish: rules.publish ?? 'anonymous', maxMessageBytes: rules.maxMessageBytes ?? 64 * 1024 };
      hub.registerNamespace({ name, ...base }, hooked ? { onClientPublish: () => refuse('text') } : {});
      hub.registerNamespace(
        { name: `${name}-in`, ...base, subscribe: 'server', historySize: 0, historyTtlSeconds: 0 },
        { onClientPublish: (_ctx, data) => (hooked ? refuse('input') : void data) },
      );
      hub.registerNamespace({ name: `${name}-media`, ...base, binary: true }, hooked ? { onClientBinary: () => refuse('binary') } : {});
    };
    family('open', {});
    family('locked', { publish: 'server' });
    family('small', { maxMessageBytes: SMALL });
    family('hooked', {}, true);
    family('locked-small', { publish: 'server', maxMessageBytes: SMALL });
    family('hooked-small', { maxMessageBytes: SMALL }, true);
  });
  after(() => server.close());

  let sendIds = 0;

  /** Publishes `bytes` bytes of data through `door` with its own client; the error code, or null when accepted. */
  async function attempt(door: Door, family: string, bytes = 10, client?: RawClient): Promise<string | null> {
    const channel = channelFor(door, family);
    const text = 'x'.repeat(Math.max(0, bytes - 2)); // JSON string: two quotes
    if (door === 'hub.publish' || door === 'hub.publishBinary') {
      try {
        if (door === 'hub.publish') await server.hub.publish(channel, text);
        else await server.hub.publishBinary(channel, new Uint8Array(bytes));
        return null;
      } catch (err) {
        assert.ok(isAirwavesError(err), `a server door throws AirwavesError (got ${String(err)})`);
        return err.code;
      }
    }
    const c = client ?? (await RawClient.open(server.wsUrl));
    try {
      if (door === 'binary frame') {
        const before = c.pushes.length;
        c.sendRaw(encodeBinaryFrame(channel, 0, Date.now(), new Uint8Array(bytes)), true);
        // A binary frame has no reply on success: a ping after it proves it was handled.
        await c.request('ping');
        const error = c.pushes.slice(before).find((f: Frame) => f.ok === false);
        return error ? (error.error as { code: string }).code : null;
      }
      if (door === 'send') {
        // `send` has no reply on success, only an error reply with its id: a ping after it proves it was handled.
        const id = 1_000_000 + sendIds++;
        c.sendRaw(JSON.stringify({ id, op: 'send', channel, data: text }));
        await c.request('ping');
        const error = c.pushes.find((f: Frame) => f.id === id && f.ok === false);
        return error ? (error.error as { code: string }).code : null;
      }
      const reply = await c.request('publish', { channel, data: text });
      return reply.ok ? null : (reply.error as { code: string }).code;
    } finally {
      if (!client) c.close();
    }
  }

  async function codesFrom(doors: Door[], family: string, bytes?: number): Promise<Record<string, string | null>> {
    const out: Record<string, string | null> = {};
    for (const door of doors) out[door] = await attempt(door, family, bytes);
    return out;
  }

  const every = (doors: Door[], code: string | null) => Object.fromEntries(doors.map((d) => [d, code]));

  test('a good publication passes every door (the baseline the refusals below differ from)', async () => {
    assert.deepEqual(await codesFrom(ALL_DOORS, 'open'), every(ALL_DOORS, null));
  });

  test('unknown namespace: unknown_namespace from every door', async () => {
    assert.deepEqual(await codesFrom(ALL_DOORS, 'nope'), every(ALL_DOORS, 'unknown_namespace'));
  });

  test('too big: message_too_big from every door', async () => {
    assert.deepEqual(await codesFrom(ALL_DOORS, 'small', SMALL + 1), every(ALL_DOORS, 'message_too_big'));
    assert.deepEqual(await codesFrom(ALL_DOORS, 'small', SMALL), every(ALL_DOORS, null), 'exactly the limit passes');
  });

  test('forbidden: forbidden from every client door; server code is trusted', async () => {
    assert.deepEqual(await codesFrom(CLIENT_DOORS, 'locked'), every(CLIENT_DOORS, 'forbidden'));
    assert.deepEqual(await codesFrom(['hub.publish', 'hub.publishBinary'], 'locked'), every(['hub.publish', 'hub.publishBinary'], null));
  });

  test('refused by the hook: the hook\'s code from every client door; server code runs no client hook', async () => {
    hookCalls.length = 0;
    assert.deepEqual(await codesFrom(CLIENT_DOORS, 'hooked'), every(CLIENT_DOORS, 'conflict'));
    assert.deepEqual(hookCalls, ['text', 'input', 'binary']);
    assert.deepEqual(await codesFrom(['hub.publish', 'hub.publishBinary'], 'hooked'), every(['hub.publish', 'hub.publishBinary'], null));
    assert.equal(hookCalls.length, 3);
  });

  test('rate-limited: rate_limited from every client door once its burst is spent', async () => {
    for (const door of CLIENT_DOORS) {
      const client = await RawClient.open(server.wsUrl);
      const codes: (string | null)[] = [];
      for (let i = 0; i < PUBLISH_RATE * 2 + 1; i++) codes.push(await attempt(door, 'open', 10, client));
      client.close();
      assert.deepEqual(codes.slice(0, 2), [null, null], `${door}: the first publishes pass`);
      assert.equal(codes.at(-1), 'rate_limited', `${door}: past the burst (${codes.join(', ')})`);
    }
  });

  test('the same order from every client door: authorize before limits, limits before the hook', async () => {
    // Forbidden and too big: authorize runs first.
    assert.deepEqual(await codesFrom(CLIENT_DOORS, 'locked-small', SMALL + 1), every(CLIENT_DOORS, 'forbidden'));
    // Too big and refused by the hook: the limits run first, and the hook never sees it.
    hookCalls.length = 0;
    assert.deepEqual(await codesFrom(CLIENT_DOORS, 'hooked-small', SMALL + 1), every(CLIENT_DOORS, 'message_too_big'));
    assert.deepEqual(hookCalls, []);
    // Rate-limited and refused by the hook: rate_limited, and the hook is not called for it.
    for (const door of CLIENT_DOORS) {
      const client = await RawClient.open(server.wsUrl);
      hookCalls.length = 0;
      let last: string | null = null;
      for (let i = 0; i < PUBLISH_RATE * 2 + 1; i++) last = await attempt(door, 'hooked-small', 10, client);
      client.close();
      assert.equal(last, 'rate_limited', door);
      assert.equal(hookCalls.length, PUBLISH_RATE * 2, `${door}: the hook saw only the publishes within the burst`);
    }
  });
});
