/**
 * @module bench/hub/wire
 * What each server under test expects on the wire (subscribe, publish, keep-alive), and the lean
 * scan that finds benchmark messages inside any of their envelopes.
 *
 * Every server relays the publisher's `data` object unchanged inside its own envelope:
 *   airwaves  {"channel":"bench:0","offset":7,"ts":...,"data":{"r":1,"s":7,"t":...,"p":"xx"}}  (several joined by "\n")
 *   ws        {"channel":"bench:0","offset":7,"data":{"r":1,"s":7,"t":...,"p":"xx"}}
 *   socketio  42["m",{"r":1,"s":7,"t":...,"p":"xx"}]
 * so a receiver finds each message by the `{"r":` marker and reads r (step), s (sequence in the
 * channel) and t (publish time, µs on CLOCK_MONOTONIC) right after it without JSON.parse
 * (bench/shared/delivery-check.ts).
 */

/**
 * The servers under test. `airwaves` runs src/cli.ts through tsx with the benchmark's own
 * settings; the `airwaves-cli*` kinds run the BUILT CLI (`node dist/src/cli.js serve`) as a user
 * starts it — `airwaves-cli` with `AIRWAVES_APPS=` (the hub alone), `airwaves-cli-all` with the
 * default apps — used by the black-box ladder (--ladder). `ws` is the naive loop (`send` per
 * client), `ws-frame` the one-frame loop (framed once, the same buffer written to every socket).
 */
export type ServerKind = 'airwaves' | 'airwaves-cli' | 'airwaves-cli-all' | 'ws' | 'ws-frame' | 'socketio';
export const SERVER_KINDS: readonly ServerKind[] = ['airwaves', 'airwaves-cli', 'airwaves-cli-all', 'ws', 'ws-frame', 'socketio'];

export const SERVER_LABELS: Record<ServerKind, string> = {
  airwaves: 'Airwaves hub',
  'airwaves-cli': 'Airwaves, hub alone (built CLI)',
  'airwaves-cli-all': 'Airwaves, default apps (built CLI)',
  ws: 'naive ws loop',
  'ws-frame': 'one-frame ws loop',
  socketio: 'Socket.IO',
};

/** The wire protocol a server speaks: the Airwaves kinds speak Airwaves', both ws loops the same tiny JSON. */
export type WireProtocol = 'airwaves' | 'ws' | 'socketio';

export function protocolOf(kind: ServerKind): WireProtocol {
  if (kind === 'airwaves' || kind === 'airwaves-cli' || kind === 'airwaves-cli-all') return 'airwaves';
  return kind === 'socketio' ? 'socketio' : 'ws';
}

export function pathFor(kind: ServerKind): string {
  const protocol = protocolOf(kind);
  if (protocol === 'airwaves') return '/ws';
  if (protocol === 'socketio') return '/socket.io/?EIO=4&transport=websocket';
  return '/';
}

export function channelName(i: number): string {
  return `bench:${i}`;
}

/** The publisher's data object; padded so its JSON is about `payloadBytes` long. */
export function dataJson(step: number, seq: number, tUs: number, pad: string): string {
  return `{"r":${step},"s":${seq},"t":${tUs},"p":"${pad}"}`;
}

export function padFor(payloadBytes: number): string {
  // {"r":N,"s":NNNNN,"t":NNNNNNNNNNNNN,"p":""} is about 40 bytes.
  return 'x'.repeat(Math.max(0, payloadBytes - 40));
}

export function publishFrame(kind: ServerKind, id: number, channel: string, data: string): string {
  const protocol = protocolOf(kind);
  if (protocol === 'socketio') return `42["pub","${channel}",${data}]`;
  if (protocol === 'airwaves') return `{"id":${id},"op":"publish","channel":"${channel}","data":${data}}`;
  return `{"op":"publish","channel":"${channel}","data":${data}}`;
}

/**
 * One client's handshake state machine. `start` returns what to send once the WebSocket is open;
 * `onText` takes each text frame before the client is ready and returns what to send back (or
 * null) and whether the client is now ready. `subscribe` is null for idle clients.
 */
export interface ClientScript {
  start(): string | null;
  onText(text: string): { reply: string | null; ready: boolean; error?: string };
}

export function clientScript(kind: ServerKind, subscribe: string | null): ClientScript {
  const protocol = protocolOf(kind);
  if (protocol === 'airwaves') {
    return {
      start: () => (subscribe ? `{"id":1,"op":"subscribe","channel":"${subscribe}"}` : null),
      onText: (text) => {
        if (text.startsWith('{"id":1,"ok":true')) return { reply: null, ready: true };
        if (text.startsWith('{"id":1,"ok":false')) return { reply: null, ready: false, error: text };
        return { reply: null, ready: false };
      },
    };
  }
  if (protocol === 'ws') {
    return {
      start: () => (subscribe ? `{"op":"subscribe","channel":"${subscribe}"}` : null),
      onText: (text) => ({ reply: null, ready: text.startsWith('{"ok":true') }),
    };
  }
  // Engine.IO v4 over the websocket transport, Socket.IO v5 packets: the bytes socket.io-client sends.
  return {
    start: () => null,
    onText: (text) => {
      if (text.startsWith('0{')) return { reply: '40', ready: false }; // engine open → connect to namespace "/"
      if (text.startsWith('40')) return subscribe ? { reply: `420["join","${subscribe}"]`, ready: false } : { reply: null, ready: true };
      if (text.startsWith('430')) return { reply: null, ready: true }; // ack of join
      if (text === '2') return { reply: '3', ready: false };
      if (text.startsWith('44')) return { reply: null, ready: false, error: text };
      return { reply: null, ready: false };
    },
  };
}

/** Socket.IO's application-level ping is the one-byte text frame "2"; the client answers "3". */
export function isEngineIoPing(buf: Buffer, start: number, end: number): boolean {
  return end - start === 1 && buf[start] === 0x32;
}
