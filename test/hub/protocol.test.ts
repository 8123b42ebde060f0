import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ProtocolError, decodeBinaryFrame, splitServerFrame } from '../../src/protocol/index.js';
import { parseClientCommand } from '../../src/hub/command-parser.js';
import { encodeBinaryFrame, encodePublication } from '../../src/hub/frame-encoding.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as ProtocolError).code;
  }
  return undefined;
}

describe('protocol parsing', () => {
  test('parses every op', () => {
    assert.deepEqual(parseClientCommand('{"id":1,"op":"ping"}'), { id: 1, op: 'ping' });
    assert.deepEqual(parseClientCommand('{"id":2,"op":"subscribe","channel":"chat:1","since":{"offset":4,"epoch":"e"}}'), {
      id: 2,
      op: 'subscribe',
      channel: 'chat:1',
      since: { offset: 4, epoch: 'e' },
    });
    assert.equal(parseClientCommand('{"id":3,"op":"publish","channel":"chat:1","data":{"a":1},"key":"k"}').op, 'publish');
    assert.equal(parseClientCommand('{"id":4,"op":"connect","token":"t"}').op, 'connect');
    assert.equal(parseClientCommand('{"id":5,"op":"history","channel":"a:b","limit":3}').op, 'history');
  });

  test('each kind of bad frame gets its own code', () => {
    assert.equal(code(() => parseClientCommand('{nope')), 'bad_json');
    assert.equal(code(() => parseClientCommand('[1]')), 'bad_frame');
    assert.equal(code(() => parseClientCommand('{"op":"ping"}')), 'bad_frame');
    assert.equal(code(() => parseClientCommand('{"id":1,"op":"dance"}')), 'unknown_op');
    assert.equal(code(() => parseClientCommand('{"id":1,"op":"subscribe","channel":"no-namespace"}')), 'bad_frame');
    assert.equal(code(() => parseClientCommand('{"id":1,"op":"subscribe","channel":"a:b","since":{"offset":-1,"epoch":"x"}}')), 'bad_frame');
    assert.equal(code(() => parseClientCommand('{"id":1,"op":"publish","channel":"a:b"}')), 'bad_frame');
  });

  test('the id is kept on errors after it was read, so the client can match the reply', () => {
    try {
      parseClientCommand('{"id":42,"op":"dance"}');
    } catch (err) {
      assert.equal((err as ProtocolError).id, 42);
    }
  });

  test('never throws anything but ProtocolError, whatever the input (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v))), (text) => {
        try {
          parseClientCommand(text);
        } catch (err) {
          assert.ok(err instanceof ProtocolError, `threw ${String(err)}`);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('commands that parse round-trip their fields (property)', () => {
    fc.assert(
      fc.property(fc.nat(), fc.stringMatching(/^[a-z][a-z0-9]{0,5}:[a-z0-9]{1,10}$/), fc.jsonValue(), (id, channel, data) => {
        fc.pre(data !== null || true);
        const cmd = parseClientCommand(JSON.stringify({ id, op: 'publish', channel, data }));
        assert.equal(cmd.id, id);
        assert.equal((cmd as { channel: string }).channel, channel);
      }),
    );
  });
});

describe('protocol encoding', () => {
  test('a publication encodes to the documented JSON', () => {
    const frame = encodePublication('chat:1', 7, 1000, '{"x":1}', 'k');
    assert.deepEqual(JSON.parse(frame.toString()), { channel: 'chat:1', offset: 7, ts: 1000, key: 'k', data: { x: 1 } });
  });

  test('batched text frames split into their values', () => {
    const a = encodePublication('c:1', 1, 1, '1').toString();
    const b = encodePublication('c:1', 2, 2, '"two"').toString();
    const values = splitServerFrame(`${a}\n${b}`) as { offset: number; data: unknown }[];
    assert.deepEqual(values.map((v) => [v.offset, v.data]), [[1, 1], [2, 'two']]);
  });

  test('binary frames round-trip channel, offset, timestamp and payload', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z]{1,8}:[a-z0-9]{1,40}$/), fc.nat(), fc.uint8Array({ maxLength: 300 }), (channel, offset, payload) => {
        const frame = decodeBinaryFrame(encodeBinaryFrame(channel, offset, 123.5, payload));
        assert.equal(frame.channel, channel);
        assert.equal(frame.offset, offset);
        assert.equal(frame.ts, 123.5);
        assert.deepEqual([...frame.payload], [...payload]);
      }),
    );
  });

  test('truncated or foreign binary frames are bad_frame', () => {
    assert.equal(code(() => decodeBinaryFrame(new Uint8Array([1, 2, 3]))), 'bad_frame');
    const ok = encodeBinaryFrame('a:b', 1, 1, new Uint8Array(4));
    assert.equal(code(() => decodeBinaryFrame(ok.subarray(0, 10))), 'bad_frame');
  });
});
